"""The steps before the themes: words, the hashing embedder, the clusterer, the pipeline."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
import pytest

from nlp.cluster import (
    NOISE,
    HdbscanClusterer,
    project,
    scaled_max_cluster_size,
    scaled_min_cluster_size,
)
from nlp.embed import HashingEmbedder, SentenceTransformerEmbedder
from nlp.pipeline import ThemePipeline
from nlp.stopwords import ENGLISH, FRENCH, GERMAN, STOP_WORDS
from nlp.text import adjacent_pairs, content_words, words
from nlp.themes import NoteInput

# Words


def test_words_are_lower_case_letters_without_numbers() -> None:
    assert words("Bike-friendly streets in 2024, l'école & the I-65!") == [
        "bike-friendly",
        "streets",
        "in",
        "école",
        "the",
    ]


def test_content_words_drop_english_french_and_german_stop_words() -> None:
    assert content_words("We should have more parks") == ["parks"]
    assert content_words("Il faut plus de pistes cyclables") == ["pistes", "cyclables"]
    assert content_words("Wir brauchen mehr Radwege in der Stadt") == [
        "brauchen",
        "radwege",
        "stadt",
    ]
    assert content_words("I don't think so, it's not") == []


def test_adjacent_pairs_are_only_words_separated_by_spaces() -> None:
    assert adjacent_pairs("More Bike  lanes, safer streets") == {
        ("more", "bike"),
        ("bike", "lanes"),
        ("safer", "streets"),
    }
    assert adjacent_pairs("paying $15/hour") == set()
    assert adjacent_pairs("a b") == set()


def test_stop_word_lists_are_lower_case_and_non_trivial() -> None:
    for table in (ENGLISH, FRENCH, GERMAN):
        assert len(table) > 100
        assert all(word == word.lower() and " " not in word for word in table)
    assert {"the", "le", "der"} <= STOP_WORDS


# Hashing embedder


def test_hashing_embedder_gives_unit_float32_rows() -> None:
    vectors = HashingEmbedder(dim=64).embed(["bike lanes", "", "the", "42"])
    assert vectors.dtype == np.float32
    assert vectors.shape == (4, 64)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-6)


def test_hashing_embedder_is_stable_across_instances() -> None:
    # blake2b, not hash(): PYTHONHASHSEED differs between processes, this must not.
    first = HashingEmbedder().embed(["more bike lanes", "parks"])
    again = HashingEmbedder().embed(["more bike lanes", "parks"])
    np.testing.assert_array_equal(first, again)


def test_hashing_embedder_puts_notes_sharing_words_closer() -> None:
    a, b, c = HashingEmbedder().embed(
        ["More bike lanes downtown", "Bike lanes on every street", "Longer library hours"]
    )
    assert float(a @ b) > float(a @ c) + 0.3


def test_empty_notes_share_a_fixed_non_zero_vector() -> None:
    empty, spaces, punctuation = HashingEmbedder().embed(["", "   ", "?!"])
    assert np.linalg.norm(empty) > 0.99
    np.testing.assert_array_equal(empty, spaces)
    np.testing.assert_array_equal(empty, punctuation)


def test_sentence_transformer_embedder_loads_nothing_until_used() -> None:
    before = "sentence_transformers" in sys.modules
    embedder = SentenceTransformerEmbedder(batch_size=8)
    assert embedder.model is None
    assert ("sentence_transformers" in sys.modules) == before
    with pytest.raises(ValueError):
        SentenceTransformerEmbedder(batch_size=0)


# Clusterer


@pytest.mark.parametrize(("n", "size"), [(0, 3), (10, 3), (40, 3), (100, 5), (600, 12), (1000, 16)])
def test_min_cluster_size_scales_with_the_wall(n: int, size: int) -> None:
    assert scaled_min_cluster_size(n) == size


@pytest.mark.parametrize(("n", "size"), [(30, 27), (100, 50), (280, 84), (1000, 300)])
def test_largest_theme_is_capped_on_large_walls_only(n: int, size: int) -> None:
    assert scaled_max_cluster_size(n, 0.3) == size


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_too_few_notes_are_all_noise_without_running_hdbscan(
    n: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "hdbscan", None)  # importing it would now fail
    labels = HdbscanClusterer().fit(HashingEmbedder().embed(["bike"] * n))
    assert labels.tolist() == [NOISE] * n


def test_clusterer_separates_clear_groups() -> None:
    rng = np.random.default_rng(0)
    centres = np.eye(3, 32) * 4
    points = np.concatenate([centre + rng.normal(scale=0.3, size=(10, 32)) for centre in centres])
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    labels = HdbscanClusterer().fit(points.astype(np.float32))
    groups = [set(labels[k * 10 : (k + 1) * 10].tolist()) for k in range(3)]
    assert all(len(g) == 1 and NOISE not in g for g in groups)
    assert len(set.union(*groups)) == 3


def test_clusterer_is_deterministic() -> None:
    vectors = np.random.default_rng(1).normal(size=(200, 48)).astype(np.float32)
    clusterer = HdbscanClusterer(min_cluster_size=4)
    np.testing.assert_array_equal(clusterer.fit(vectors), clusterer.fit(vectors))


def test_clusterer_refuses_bad_input() -> None:
    with pytest.raises(ValueError):
        HdbscanClusterer().fit(np.zeros(10, np.float32))
    with pytest.raises(ValueError):
        HdbscanClusterer().fit(np.full((20, 4), np.nan, np.float32))
    with pytest.raises(ValueError):
        HdbscanClusterer(min_cluster_size=1)


def test_projection_keeps_unit_rows_and_the_requested_width() -> None:
    vectors = np.random.default_rng(2).normal(size=(50, 30))
    reduced = project(vectors, 5)
    assert reduced.shape == (50, 5)
    np.testing.assert_allclose(np.linalg.norm(reduced, axis=1), 1.0)


# Pipeline


class CountingEmbedder:
    """Records every batch it is asked to embed."""

    def __init__(self) -> None:
        self.inner = HashingEmbedder(dim=32)
        self.dim = 32
        self.batches: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.batches.append(list(texts))
        return self.inner.embed(texts)


def wall(n: int) -> list[NoteInput]:
    topics = ["bike lanes cycling", "park trees benches", "school teachers homework"]
    return [NoteInput(f"n{i}", f"{topics[i % 3]} idea{chr(97 + i % 26)}", "r1") for i in range(n)]


def test_pipeline_embeds_only_notes_missing_from_the_cache_in_batches() -> None:
    embedder = CountingEmbedder()
    pipeline = ThemePipeline(embedder, HdbscanClusterer(), embed_batch=4)
    cache: dict[str, np.ndarray] = {}

    first = pipeline.run(wall(10), cache, None)
    assert [len(b) for b in embedder.batches] == [4, 4, 2]
    assert set(cache) == {f"n{i}" for i in range(10)}
    assert pipeline.embedded == 10

    embedder.batches.clear()
    second = pipeline.run(wall(12), cache, first)
    assert embedder.batches == [[n.text for n in wall(12)[10:]]]
    assert pipeline.embedded == 2
    assert second.version == 2
    assert set(pipeline.timings) == {"embed", "cluster", "themes", "total"}
    assert all(seconds >= 0 for seconds in pipeline.timings.values())


def test_pipeline_on_an_empty_wall() -> None:
    embedder = CountingEmbedder()
    themes = ThemePipeline(embedder, HdbscanClusterer()).run([], {}, None)
    assert themes.themes == () and themes.unthemed_ids == ()
    assert embedder.batches == []


def test_pipeline_refuses_an_embedder_that_loses_rows() -> None:
    class Broken(CountingEmbedder):
        def embed(self, texts: Sequence[str]) -> np.ndarray:
            return super().embed(texts)[:-1]

    with pytest.raises(ValueError):
        ThemePipeline(Broken(), HdbscanClusterer()).run(wall(5), {}, None)
