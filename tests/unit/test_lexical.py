"""Shared words blended into note vectors before clustering (`nlp.lexical`)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from sklearn.metrics import normalized_mutual_info_score

from nlp.cluster import HdbscanClusterer
from nlp.embed import Embedder
from nlp.lexical import blend, word_topics
from nlp.pipeline import ThemePipeline
from nlp.themes import NoteInput, ThemeSet

TOPICS = [
    "bike lanes cycling commute",
    "park trees benches shade",
    "school teachers homework classes",
]


def texts(n: int) -> list[str]:
    return [f"{TOPICS[i % 3]} note{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(n)]


def random_unit(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(n, dim))
    result: np.ndarray = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return result


def test_blended_cosine_is_the_weighted_sum_of_model_and_word_cosines() -> None:
    notes = texts(30)
    vectors = random_unit(30)
    topics = word_topics(notes)
    assert topics is not None
    mixed = blend(vectors, notes, weight=0.3)
    expected = 0.7 * (vectors @ vectors.T) + 0.3 * (topics @ topics.T)
    np.testing.assert_allclose(mixed @ mixed.T, expected, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(mixed, axis=1), 1.0)


def test_notes_sharing_words_come_closer_than_the_model_alone_puts_them() -> None:
    notes = texts(30)
    vectors = random_unit(30)
    mixed = blend(vectors, notes, weight=0.3)
    same = [(i, j) for i in range(30) for j in range(i + 1, 30) if i % 3 == j % 3]
    other = [(i, j) for i in range(30) for j in range(i + 1, 30) if i % 3 != j % 3]

    def mean_cosine(m: np.ndarray, pairs: list[tuple[int, int]]) -> float:
        return float(np.mean([m[i] @ m[j] for i, j in pairs]))

    # The random model vectors do not tell the topics apart; the words do.
    assert abs(mean_cosine(vectors, same) - mean_cosine(vectors, other)) < 0.05
    assert mean_cosine(mixed, same) > mean_cosine(mixed, other) + 0.2


def test_without_shared_words_the_model_vectors_come_back_unchanged() -> None:
    vectors = random_unit(4)
    alone = ["bicycles", "orchards", "libraries", "tramways"]
    np.testing.assert_array_equal(blend(vectors, alone), vectors)
    # Stop words and numbers are not words that notes share.
    common = ["the 2024 and", "the 2024 or", "and the 15", "or the 15"]
    np.testing.assert_array_equal(blend(vectors, common), vectors)
    np.testing.assert_array_equal(blend(vectors[:2], alone[:2]), vectors[:2])


def test_a_note_without_shared_words_keeps_its_model_direction() -> None:
    notes = [*texts(9), "zeppelins"]
    vectors = random_unit(10)
    mixed = blend(vectors, notes, weight=0.3)
    np.testing.assert_allclose(mixed[9, :32], vectors[9])
    np.testing.assert_allclose(mixed[9, 32:], 0.0)


def test_blend_refuses_bad_arguments() -> None:
    vectors = random_unit(3)
    with pytest.raises(ValueError, match="weight"):
        blend(vectors, ["a b", "a c", "b c"], weight=1.0)
    with pytest.raises(ValueError, match="weight"):
        blend(vectors, ["a b", "a c", "b c"], weight=0.0)
    with pytest.raises(ValueError, match="2 texts for 3 vectors"):
        blend(vectors, ["a b", "a c"])


class WeakEmbedder:
    """Model vectors whose topic is a faint signal under much noise (cosine about 0.16 within
    a topic, 0 across): the words must do most of the grouping."""

    dim = 32

    def embed(self, batch: list[str]) -> np.ndarray:
        noise = random_unit(len(batch), self.dim, zlib.crc32("\n".join(batch).encode()))
        topic = np.zeros((len(batch), self.dim))
        for row, text in enumerate(batch):
            topic[row, next(k for k, t in enumerate(TOPICS) if text.startswith(t))] = 1.0
        rows = 0.4 * topic + 0.9 * noise
        return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_the_pipeline_finds_themes_the_model_misses_through_shared_words() -> None:
    notes = [NoteInput(f"n{i}", t, "r1") for i, t in enumerate(texts(60))]
    embedder: Embedder = WeakEmbedder()
    cache: dict[str, np.ndarray] = {}
    with_words = ThemePipeline(embedder, HdbscanClusterer()).run(notes, cache, None)
    without = ThemePipeline(embedder, HdbscanClusterer(), lexical_weight=None).run(
        notes, cache, None
    )

    def topics_per_theme(themes: ThemeSet) -> list[int]:
        theme_of = themes.theme_of()
        return [
            len({int(i[1:]) % 3 for i, t in theme_of.items() if t == theme.id})
            for theme in themes.themes
        ]

    def agreement(themes: ThemeSet) -> float:
        theme_of = themes.theme_of()
        found = [theme_of.get(n.id, "unthemed") for n in notes]
        return float(normalized_mutual_info_score([int(n.id[1:]) % 3 for n in notes], found))

    # Measured: three themes of one topic each, 6 notes too far from their theme in the
    # model's space to be read as it; without the words, 5 themes, 3 of them mixed.
    assert topics_per_theme(with_words) == [1, 1, 1]
    assert len(with_words.unthemed_ids) <= 12
    assert max(topics_per_theme(without)) > 1
    assert agreement(without) <= agreement(with_words) - 0.2, agreement(without)
