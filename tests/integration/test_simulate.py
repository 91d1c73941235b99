"""`tablee simulate` against a real server: every note acknowledged, delivered and themed."""

from __future__ import annotations

import csv
import math
import re
import socket
from pathlib import Path
from typing import Any

import pytest

from server.simulate import (
    SimulateError,
    SimulateOptions,
    format_report,
    load_texts,
    simulate,
)
from tests.conftest import shared_data

POLIS_COMMENTS = Path("polis", "american-assembly.bowling-green", "comments.csv")


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_csv_texts_keep_commas_and_newlines_and_fit_a_note(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "notes.csv",
        [
            {"ok": "1", "body": "Wider roads, more lanes, fewer jams"},
            {"ok": "-1", "body": "rejected"},
            {"ok": "1", "body": "  two lines\nin one note  "},
            {"ok": "1", "body": "   "},
            {"ok": "1", "body": "x" * 700},
            {"ok": "1", "body": "past the limit"},
        ],
    )
    texts = load_texts(path, "body", filter_column="ok", filter_value="1", limit=3)
    assert texts == ["Wider roads, more lanes, fewer jams", "two lines\nin one note", "x" * 500]


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "notes.csv", [{"text": "hello"}])
    with pytest.raises(SimulateError, match="no column 'comment-body'"):
        load_texts(path, "comment-body")


async def test_an_unreachable_server_is_a_clear_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    options = SimulateOptions(url=f"http://127.0.0.1:{port}", texts=["hello"])
    with pytest.raises(SimulateError, match="cannot reach the Tablée server"):
        await simulate(options)


async def test_a_few_notes_reach_every_room_member(request: pytest.FixtureRequest) -> None:
    try:
        server: Any = request.getfixturevalue("live_server_fast")
    except pytest.FixtureLookupError:
        pytest.skip("no live_server_fast fixture")
    texts = [f"note {i}: more shade trees on Main Street, block {i}" for i in range(12)]
    report = await simulate(
        SimulateOptions(
            url=server.url, texts=texts, participants=6, rooms=2, rate=0, themes_timeout=60
        )
    )
    assert report.acked == 12, report.errors
    assert report.errors == {}
    # Each note reaches the 2 other participants of its room and the facilitator.
    assert report.deliveries == 12 * 3
    assert report.missing_deliveries == 0
    assert report.out_of_order == 0
    assert report.themes_seconds is not None, "themes never covered every note"
    assert report.board_placed == 12
    assert report.protocol_mismatches == []


async def test_every_note_reaches_the_board_after_a_preload(
    request: pytest.FixtureRequest,
) -> None:
    try:
        server: Any = request.getfixturevalue("live_server_fast")
    except pytest.FixtureLookupError:
        pytest.skip("no live_server_fast fixture")
    preload = [f"early note {i}: a bus line to the hospital, stop {i}" for i in range(30)]
    stream = [f"later note {i}: more bike racks near the station, rack {i}" for i in range(10)]
    report = await simulate(
        SimulateOptions(
            url=server.url,
            texts=preload + stream,
            participants=4,
            rooms=2,
            rate=20,
            preload=len(preload),
            preload_rate=0,
            themes_timeout=60,
        )
    )
    assert report.preloaded == 30
    assert report.preload_seconds is not None, "themes never covered the preloaded notes"
    # Only the stream after the preload is measured.
    assert report.sent == report.acked == 10, report.errors
    assert report.board_placed == report.acked
    assert report.board_unplaced == 0
    assert report.board_ms is not None
    for value in (report.board_ms.p50, report.board_ms.p95, report.board_ms.p99):
        assert math.isfinite(value) and value > 0
    assert report.board_ms.p50 <= report.board_ms.p95 <= report.board_ms.p99
    assert report.reclusterings, "no themes snapshot reached the facilitator"
    assert "post → board" in format_report(report)


@pytest.mark.model
@pytest.mark.shared_data
async def test_polis_conversation_is_acked_delivered_and_themed(live_server: Any) -> None:
    texts = load_texts(
        shared_data() / POLIS_COMMENTS,
        "comment-body",
        filter_column="moderated",
        filter_value="1",
    )
    assert len(texts) == 607
    report = await simulate(
        SimulateOptions(
            url=live_server.url,
            texts=texts,
            participants=60,
            rooms=10,
            rate=100,
            themes_timeout=180,
        )
    )
    print(format_report(report))  # the figures, for `pytest -s`
    assert report.acked == 607, report.errors
    assert report.missing_deliveries == 0
    assert report.out_of_order == 0
    assert report.themes_seconds is not None, (
        f"themes covered only {report.themes_covered} of 607 notes"
    )
    assert report.n_themes >= 5, report.labels
    vocabulary = words(" ".join(texts))
    for label in report.labels:
        assert words(label), f"empty label {label!r}"
        assert words(label) <= vocabulary, f"label {label!r} uses words no note contains"
