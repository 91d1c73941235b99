"""`tablee themes` on a small CSV, with the model-free embedder."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from server.cli import main

TOPICS = {
    "bikes": ["bike lanes", "bike parking", "bike racks", "safe cycling", "cycling paths"],
    "meals": ["school meals", "school lunch", "free meals", "hot lunch", "organic meals"],
    "parks": ["park benches", "park trees", "green parks", "park lawns", "park shade"],
}


def _csv(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["text", "label", "room"])
        for label, texts in TOPICS.items():
            for i, text in enumerate(texts * 3):
                out.writerow([f"{text} please {i}", label, f"table {i % 4}"])
    return path


def test_json_carries_the_figures_and_the_themes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _csv(tmp_path / "notes.csv")
    args = [
        "themes",
        str(source),
        "--label-column",
        "label",
        "--room-column",
        "room",
        "--model",
        "hashing",
        "--json",
    ]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    figures = (
        *("nmi", "ari", "unthemed_share", "n_themes", "kmeans_nmi", "kmeans_ari"),
        *("kmeans_words_nmi", "kmeans_words_ari", "churn"),
    )
    for key in figures:
        assert isinstance(out[key], float | int), key
    assert isinstance(out["seconds"], float)
    assert set(out["stages"]) >= {"embed", "cluster", "themes", "kmeans", "total"}
    assert out["n_notes"] == 45
    assert out["themes"] and all(t["label"] for t in out["themes"])


def test_markdown_lists_themes_and_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _csv(tmp_path / "notes.csv")
    vectors = tmp_path / "vectors.npy"
    assert main(["themes", str(source), "--model", "hashing", "--vectors", str(vectors)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# ") and "| theme | notes |" in text and "| stage | seconds |" in text
    assert vectors.exists()
    # The cache is read back: same themes without embedding again.
    assert main(["themes", str(source), "--model", "hashing", "--vectors", str(vectors)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == text.splitlines()[0]


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    source = _csv(tmp_path / "notes.csv")
    with pytest.raises(SystemExit, match="no column 'body'"):
        main(["themes", str(source), "--text-column", "body", "--model", "hashing"])


def test_the_word_weight_is_checked_and_zero_turns_the_words_off(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _csv(tmp_path / "notes.csv")
    base = ["themes", str(source), "--label-column", "label", "--model", "hashing", "--json"]
    with pytest.raises(SystemExit, match="--word-weight must be"):
        main([*base, "--word-weight", "1"])
    assert main([*base, "--word-weight", "0"]) == 0
    out = json.loads(capsys.readouterr().out)
    # Without words, k-means sees the same rows either way.
    assert out["kmeans_words_nmi"] == out["kmeans_nmi"]
