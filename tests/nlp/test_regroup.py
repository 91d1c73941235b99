"""Splitting broad themes and merging near-twins, on made-up vectors (no model needed)."""

from __future__ import annotations

import numpy as np
import pytest

from nlp.geometry import NOISE, principal_axes
from nlp.regroup import SilhouetteJudge, merge_twins, silhouette, split_broad


def blob(centre: np.ndarray, n: int, spread: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    points = centre + rng.normal(scale=spread, size=(n, centre.size))
    result: np.ndarray = points / np.linalg.norm(points, axis=1, keepdims=True)
    return result


def axis(k: int, dim: int = 32) -> np.ndarray:
    vector = np.zeros(dim)
    vector[k] = 1.0
    return vector


def two_topic_wall() -> tuple[np.ndarray, np.ndarray]:
    """One theme holding two sub-topics of a subject (axis 0, apart along 1 and 2)."""
    first = blob(axis(0) + 1.5 * axis(1), 60, 0.12, seed=1)
    second = blob(axis(0) + 1.5 * axis(2), 60, 0.12, seed=2)
    other = blob(axis(5), 15, 0.12, seed=3)
    return np.vstack([first, second, other]), np.array([0] * 120 + [1] * 15)


def test_a_theme_made_of_two_topics_is_split_in_two() -> None:
    vectors, labels = two_topic_wall()

    result = split_broad(vectors, labels, min_size=10)

    assert len(set(result[:60].tolist())) == 1
    assert len(set(result[60:120].tolist())) == 1
    assert result[0] != result[60]
    assert set(result[120:].tolist()) == {1}  # under twice min_size: left whole


def test_unthemed_notes_and_small_themes_are_left_as_they_are() -> None:
    small = np.vstack([blob(axis(1), 9, 0.1, seed=5), blob(axis(2), 9, 0.1, seed=6)])
    vectors = np.vstack([small, blob(axis(3), 5, 0.1, seed=7)])
    labels = np.array([0] * 18 + [NOISE] * 5)
    np.testing.assert_array_equal(split_broad(vectors, labels, min_size=10), labels)
    with pytest.raises(ValueError):
        split_broad(vectors, labels, min_size=1)


def test_splitting_is_deterministic() -> None:
    vectors = np.vstack([blob(axis(0) + 0.8 * axis(k), 50, 0.15, seed=k) for k in (1, 2, 3)])
    labels = np.zeros(150, dtype=np.int64)
    np.testing.assert_array_equal(
        split_broad(vectors, labels, min_size=10), split_broad(vectors, labels, min_size=10)
    )


def test_the_judge_prefers_real_sub_topics_to_halves_of_one_blob() -> None:
    vectors, labels = two_topic_wall()
    judge = SilhouetteJudge(vectors)
    split = labels.copy()
    split[60:120] = 2
    assert judge(split) > judge(labels)

    compact = np.vstack([blob(axis(0), 80, 0.3, seed=4), blob(axis(5), 40, 0.3, seed=8)])
    whole = np.array([0] * 80 + [1] * 40)
    halves = whole.copy()
    halves[(compact[:, 1] > 0) & (whole == 0)] = 2
    judge = SilhouetteJudge(compact)
    assert judge(halves) < judge(whole)
    assert judge(np.zeros(120, dtype=np.int64)) == -1.0  # one theme: nothing to compare


def test_silhouette_from_sums_matches_scikit_learn() -> None:
    from sklearn.metrics import silhouette_score

    vectors, labels = two_topic_wall()
    labels = labels.copy()
    labels[60:120] = 2
    distance = np.maximum(1.0 - vectors @ vectors.T, 0.0)
    np.fill_diagonal(distance, 0.0)
    keys, own = np.unique(labels, return_inverse=True)
    onehot = np.eye(len(keys))[own]
    ours = silhouette(distance @ onehot, onehot.sum(axis=0), own)
    expected = silhouette_score(distance, labels, metric="precomputed")
    assert ours == pytest.approx(expected, abs=1e-9)


def test_themes_with_almost_the_same_centre_are_merged_closest_first() -> None:
    base = blob(axis(0), 30, 0.1, seed=8)
    twin = blob(axis(0) + 0.1 * axis(1), 30, 0.1, seed=9)
    apart = blob(axis(4), 30, 0.1, seed=10)
    vectors = np.vstack([base, twin, apart, blob(axis(6), 3, 0.1, seed=11)])
    labels = np.array([2] * 30 + [0] * 30 + [1] * 30 + [NOISE] * 3)

    result = merge_twins(vectors, labels, threshold=0.9)

    assert set(result[:60].tolist()) == {0}  # the smaller label survives
    assert set(result[60:90].tolist()) == {1}
    assert set(result[90:].tolist()) == {NOISE}
    np.testing.assert_array_equal(merge_twins(vectors, labels, threshold=0.999), labels)


def test_merging_never_empties_a_wall_of_one_theme() -> None:
    vectors = blob(axis(0), 10, 0.1, seed=12)
    labels = np.zeros(10, dtype=np.int64)
    np.testing.assert_array_equal(merge_twins(vectors, labels, threshold=0.0), labels)


def test_principal_axes_are_the_leading_eigenvectors() -> None:
    rng = np.random.default_rng(13)
    data = rng.normal(size=(200, 12)) * np.linspace(3.0, 0.5, 12)
    centred = data - data.mean(axis=0)
    axes = principal_axes(centred, 3)
    _, full = np.linalg.eigh(centred.T @ centred)
    expected = full[:, ::-1][:, :3]
    assert axes.shape == (12, 3)
    np.testing.assert_allclose(np.abs((axes * expected).sum(axis=0)), 1.0, atol=1e-8)
    assert principal_axes(centred, 40).shape == (12, 12)


def test_the_pipeline_with_splitting_on_keeps_clear_topics_whole() -> None:
    from nlp.cluster import HdbscanClusterer
    from nlp.embed import HashingEmbedder
    from nlp.pipeline import SPLIT_FACTOR, ThemePipeline

    vectors = np.vstack([blob(axis(k), 80, 0.08, seed=20 + k) for k in range(3)])
    pipeline = ThemePipeline(HashingEmbedder(), HdbscanClusterer(), split_factor=SPLIT_FACTOR)
    labels = pipeline.straighten(vectors, HdbscanClusterer().fit(vectors), 0.25)
    assert [len(set(labels[k * 80 : (k + 1) * 80].tolist())) for k in range(3)] == [1, 1, 1]
    assert len(set(labels.tolist())) == 3
