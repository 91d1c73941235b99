"""What the plenary screen shows, from a themes snapshot, a table's notes or one note."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from server.event_messages import SpotlightSet
from server.spotlight import (
    ROOM_NOTES,
    Spotlight,
    SpotNote,
    find_theme,
    most_supported,
    note_spotlight,
    room_spotlight,
    theme_spotlight,
)

AT = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def _note(i: int, likes: int = 0, room: str = "r1") -> SpotNote:
    return SpotNote(f"n{i}", f"text {i}", room, f"Table {room[1:]}", likes)


THEMES = {
    "n_rooms": 12,
    "themes": [
        {"id": "t-a", "label": "school meals", "size": 4, "rooms": [{"id": "r2", "count": 4}]},
        {
            "id": "t-b",
            "label": "bike lanes",
            "size": 14,
            "rooms": [{"id": f"r{i}", "count": 2} for i in range(5)],
            "representatives": [{"id": f"n{i}", "text": "old", "room_id": "r1"} for i in range(4)],
        },
    ],
}


def test_a_theme_shows_its_representatives_still_on_the_walls_read_fresh() -> None:
    theme = find_theme(THEMES, "t-b")
    assert (
        theme is not None and find_theme(THEMES, "t-c") is None and find_theme(None, "t-b") is None
    )
    fresh = {n.id: n for n in (_note(0), _note(2, likes=3), _note(3))}  # n1 was deleted
    shown = theme_spotlight(THEMES, theme, fresh, "Ben", AT)
    # Three at most, in the board's order, n1 left out, n3 beyond the three not brought in.
    assert [n.id for n in shown.notes] == ["n0", "n2"]
    assert shown.notes[1].text == "text 2" and shown.notes[1].likes == 3
    assert (shown.title, shown.size, shown.rooms, shown.of_rooms) == ("bike lanes", 14, 5, 12)
    bare = theme_spotlight(THEMES, THEMES["themes"][0], fresh, "Ben", AT)  # type: ignore[arg-type]
    assert bare.notes == () and bare.rooms == 1


def test_a_table_shows_its_most_liked_then_newest_notes() -> None:
    written = [(_note(i, likes=i % 3), AT + timedelta(seconds=i)) for i in range(10)]
    ordered = most_supported(written)
    assert [n.id for n in ordered[:4]] == ["n8", "n5", "n2", "n7"]
    shown = room_spotlight("r1", "Table 1", ordered, len(written), "Ben", AT)
    assert len(shown.notes) == ROOM_NOTES and shown.size == 10 and shown.title == "Table 1"
    assert shown.rooms is None and shown.kind == "room"


def test_a_note_leaves_the_screen_when_deleted_and_others_keep_what_is_left() -> None:
    one = note_spotlight(_note(1, room="r3"), "Ben", AT)
    assert one.title == "Table 3" and one.size is None
    edited = SpotNote("n1", "new words", "r3", "Table 3", 2)
    assert one.with_notes({"n1": edited}) == note_spotlight(edited, "Ben", AT)
    assert one.with_notes({}) is None
    table = room_spotlight("r1", "Table 1", [_note(1), _note(2)], 2, "Ben", AT)
    kept = table.with_notes({"n2": _note(2)})
    assert kept is not None and [n.id for n in kept.notes] == ["n2"] and kept.size == 2
    assert kept.with_notes({}) is not None  # a table with nothing left is still on the screen


def test_the_wire_form_reads_back_whole() -> None:
    theme = find_theme(THEMES, "t-b")
    assert theme is not None
    for shown in (
        theme_spotlight(THEMES, theme, {"n0": _note(0)}, "Ben", AT),
        room_spotlight("r1", "Table 1", [_note(1, likes=2)], 1, "Chloé", AT),
        note_spotlight(_note(1), "Ben", AT),
    ):
        wire = shown.to_wire()
        assert wire["set_at"] == "2026-12-07T08:00:00.000Z"
        assert Spotlight.from_wire(wire) == shown
    with pytest.raises(ValueError, match="kind"):
        Spotlight.from_wire({**note_spotlight(_note(1), "Ben", AT).to_wire(), "kind": "map"})


def test_the_request_names_one_thing_or_nothing() -> None:
    assert SpotlightSet.model_validate({}).theme is None
    assert SpotlightSet.model_validate({"room": "r1"}).room == "r1"
    with pytest.raises(ValidationError, match="one of theme, room or note"):
        SpotlightSet.model_validate({"room": "r1", "theme": "t-b"})
    with pytest.raises(ValidationError):
        SpotlightSet.model_validate({"note": "not-a-uuid"})
