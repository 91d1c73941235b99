"""The event's report: every note as CSV rows a spreadsheet opens safely, and the themes as
Markdown a facilitator can paste into the assembly's report."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from server.report import (
    ANSWER_COLUMNS,
    HIDDEN,
    NEW,
    NOTE_COLUMNS,
    THEMED,
    UNIQUE,
    ReportAnswer,
    ReportNote,
    answers_csv,
    notes_csv,
    themes_markdown,
)

T0 = datetime(2026, 12, 6, 14, 0, tzinfo=UTC)
ROOMS = {"r1": "Table 1", "r2": "Table 2", "r3": "Table 3"}


def _note(
    i: int, text: str, table: str = "Table 1", likes: int = 0, step: str = "Round 1"
) -> ReportNote:
    return ReportNote(f"n{i}", T0 + timedelta(seconds=i), table, step, text, likes)


NOTES = [
    _note(1, "Bike lanes to the station", likes=3),
    _note(2, "Protected bike lanes, please", "Table 2", step="Round 2"),
    _note(3, '=HYPERLINK("http://evil")', "Table 2", step="Round 2"),
    _note(4, 'A "quoted", multi-line\nnote'),
    _note(5, "# Not a heading <script>alert(1)</script>", "Table 3"),
    _note(6, "Posted after the themes were made", "Table 3"),
    _note(7, "Noise we hid"),
]
PAYLOAD: dict[str, Any] = {
    "version": 9,
    "n_notes": 6,
    "n_rooms": 3,
    "themes": [
        {
            "id": "t-bikes",
            "label": "bike lanes",
            "keywords": ["bike", "lanes"],
            "size": 3,
            "note_ids": ["n1", "n2", "n3"],
            "representatives": [
                {"id": "n1", "text": "Bike lanes to the station", "room_id": "r1"},
                {"id": "n2", "text": "Protected bike lanes, please", "room_id": "r2"},
            ],
            "rooms": [{"id": "r1", "count": 1}, {"id": "r2", "count": 2}],
            "single_room": False,
            "hidden": False,
        },
        {
            "id": "t-quotes",
            "label": "quoted notes",
            "keywords": ["quoted"],
            "size": 1,
            "note_ids": ["n4"],
            "representatives": [],
            "rooms": [{"id": "r1", "count": 1}],
            "single_room": True,
            "hidden": False,
        },
        {
            "id": "t-hidden",
            "label": "noise",
            "keywords": [],
            "size": 1,
            "note_ids": ["n7"],
            "representatives": [],
            "rooms": [{"id": "r1", "count": 1}],
            "single_room": True,
            "hidden": True,
        },
    ],
    "unthemed": [
        {
            "id": "n5",
            "text": "# Not a heading <script>alert(1)</script>",
            "room_id": "r3",
            "distinctness": 0.8,
        }
    ],
}


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_every_note_is_one_row_with_its_theme_or_why_it_has_none() -> None:
    rows = _rows(notes_csv(NOTES, PAYLOAD))
    assert list(rows[0]) == list(NOTE_COLUMNS)
    assert [r["note_id"] for r in rows] == [n.id for n in NOTES]
    by_id = {r["note_id"]: r for r in rows}
    assert (by_id["n2"]["theme_id"], by_id["n2"]["theme"], by_id["n2"]["status"]) == (
        "t-bikes",
        "bike lanes",
        THEMED,
    )
    assert by_id["n7"]["status"] == HIDDEN
    assert (by_id["n5"]["theme_id"], by_id["n5"]["status"]) == ("", UNIQUE)
    assert (by_id["n6"]["theme_id"], by_id["n6"]["status"]) == ("", NEW)
    assert by_id["n1"]["likes"] == "3"
    assert by_id["n1"]["created_at"] == "2026-12-06T14:00:01Z"
    assert by_id["n1"]["step"] == "Round 1"
    assert by_id["n4"]["text"] == 'A "quoted", multi-line\nnote'  # quoted, not split


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_kept_as_text() -> None:
    rows = {r["note_id"]: r for r in _rows(notes_csv(NOTES, PAYLOAD))}
    assert rows["n3"]["text"] == "'" + '=HYPERLINK("http://evil")'
    assert rows["n1"]["text"] == "Bike lanes to the station"


def test_without_themes_every_note_waits() -> None:
    rows = _rows(notes_csv(NOTES, None))
    assert {r["status"] for r in rows} == {NEW}


def test_the_markdown_report_gives_each_theme_its_tables_and_voices() -> None:
    report = themes_markdown("Town jury", NOTES, PAYLOAD, ROOMS, T0)
    lines = report.splitlines()
    assert lines[0] == "# Town jury: themes"
    assert "7 notes from 3 tables" in report
    assert "version 9: 2 themes, 1 unique idea. 1 note posted since then is not in them yet." in (
        report
    )
    bikes = lines.index("## 1. bike lanes")
    assert lines[bikes + 2] == "3 notes, raised at 2 of 3 tables: Table 1 (1), Table 2 (2)."
    assert lines[bikes + 3] == "Written in: Round 2 (2), Round 1 (1)."
    assert "> Protected bike lanes, please (Table 2)" in lines
    assert "1 note, raised at 1 of 3 tables (one table only): Table 1 (1)." in lines
    assert report.index("## 1. bike lanes") < report.index("## 2. quoted notes")
    # Hidden themes are named apart, not ranked among the themes.
    assert "## 3." not in report
    assert lines[lines.index("## Hidden by a facilitator") + 2] == "- noise (1 note)"


def test_the_report_says_what_each_table_raised() -> None:
    lines = themes_markdown("Town jury", NOTES, PAYLOAD, ROOMS, T0).splitlines()
    start = lines.index("## By table")
    assert lines[start + 2 : start + 5] == [
        "- Table 1: bike lanes (1), quoted notes (1)",
        "- Table 2: bike lanes (2)",
        "- Table 3: 1 unique idea",
    ]


def test_note_text_cannot_make_markdown_or_html() -> None:
    report = themes_markdown("A <b>jury</b>", NOTES, PAYLOAD, ROOMS, T0)
    assert "<script>" not in report and "<b>" not in report
    unique = report.splitlines()[report.splitlines().index("## Unique ideas (1)") + 2]
    assert unique == r"- \# Not a heading \<script\>alert(1)\</script\> (Table 3)"


def test_steps_are_named_only_when_notes_come_from_more_than_one() -> None:
    one_step = [_note(i, n.text, n.table) for i, n in enumerate(NOTES, 1)]
    assert "Written in" not in themes_markdown("Town jury", one_step, PAYLOAD, ROOMS, T0)


def test_a_report_before_any_themes_says_so() -> None:
    report = themes_markdown("Town jury", NOTES[:2], None, ROOMS, T0)
    assert "No themes have been made for this event yet." in report
    assert "2 notes from 2 tables" in report


def test_the_most_supported_notes_come_ranked_with_their_table_and_theme() -> None:
    notes = [
        *NOTES,
        _note(8, "Cheaper buses", "Table 3", likes=5),
        _note(9, "Bike parking at schools", "Table 2", likes=3),
    ]
    lines = themes_markdown("Town jury", notes, PAYLOAD, ROOMS, T0).splitlines()
    start = lines.index("## Most supported notes (3)")
    assert lines[start + 2 : start + 5] == [
        "- 5 likes: Cheaper buses (Table 3)",
        # A tie keeps the order the notes were written in; a themed note names its theme.
        "- 3 likes: Bike lanes to the station (Table 1; theme: bike lanes)",
        "- 3 likes: Bike parking at schools (Table 2)",
    ]
    assert lines.index("## Most supported notes (3)") < lines.index("## Unique ideas (1)")


def test_only_the_top_of_a_long_list_is_read_out() -> None:
    notes = [_note(i, f"Idea {i}", likes=1 + i % 4) for i in range(30)]
    report = themes_markdown("Town jury", notes, None, ROOMS, T0)
    lines = report.splitlines()
    start = lines.index("## Most supported notes (top 20)")
    listed = [line for line in lines[start + 2 :] if line.startswith("- ")]
    assert len(listed) == 20
    assert listed[0] == "- 4 likes: Idea 3 (Table 1)"
    assert all("likes" in line for line in listed)


def test_a_report_without_likes_has_no_supported_section() -> None:
    unliked = [_note(i, n.text, n.table) for i, n in enumerate(NOTES, 1)]
    assert "Most supported" not in themes_markdown("Town jury", unliked, PAYLOAD, ROOMS, T0)


def test_every_answer_is_one_row_with_its_table_and_choice_and_no_author() -> None:
    choices = ("Yes", "=No", "Undecided")
    answers = [
        ReportAnswer("Vote", "Build it?", "Table 2", 1, choices, T0),
        ReportAnswer("Vote", "Build it?", "", 0, choices, T0 + timedelta(seconds=3)),
        ReportAnswer("Vote", "Build it?", "Table 1", 3, choices, T0),  # out of range: skipped
    ]
    rows = list(csv.reader(io.StringIO(answers_csv(answers))))
    assert tuple(rows[0]) == ANSWER_COLUMNS
    assert rows[1:] == [
        ["Vote", "Build it?", "Table 2", "2", "'=No", "2026-12-06T14:00:00Z"],
        ["Vote", "Build it?", "", "1", "Yes", "2026-12-06T14:00:03Z"],
    ]
