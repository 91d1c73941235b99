"""What a facilitator puts on the plenary screen: a theme, one table's notes, or one note.

In a hybrid assembly the hall looks at the projector while the online tables look at their
own pages, so whatever is "on the screen" goes to every page of the event. It is resolved
once, when a facilitator chooses it, into the words and notes shown (a screen must not move
under the speaker as notes keep arriving), and changed only by what changes the thing shown:
one of its notes edited or deleted (a note taken down for its content leaves the screen with
it), its theme renamed or hidden.

Each change bumps the event's spotlight version, and pages keep the highest version they
have seen: two processes may deliver two facilitators' choices in either order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

SpotlightKind = Literal["theme", "room", "note"]
KINDS: tuple[SpotlightKind, ...] = ("theme", "room", "note")
THEME_NOTES = 3  # a theme shows its representative notes, as on the board
ROOM_NOTES = 6  # a table "reporting back": its most supported notes, readable from the back


@dataclass(frozen=True, slots=True)
class SpotNote:
    id: str
    text: str
    room_id: str
    room: str  # the room's name, as the hall knows it
    likes: int

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "room_id": self.room_id,
            "room": self.room,
            "likes": self.likes,
        }

    @classmethod
    def from_wire(cls, d: Mapping[str, Any]) -> SpotNote:
        return cls(str(d["id"]), str(d["text"]), str(d["room_id"]), str(d["room"]), int(d["likes"]))


@dataclass(frozen=True, slots=True)
class Spotlight:
    kind: SpotlightKind
    id: str  # the theme's, room's or note's
    title: str
    notes: tuple[SpotNote, ...]
    size: int | None  # a theme's notes, or the room's notes in the scope shown
    rooms: int | None  # a theme's: "from 5 of 12 tables"
    of_rooms: int | None
    by: str  # the facilitator's pseudonym
    set_at: datetime

    @property
    def note_ids(self) -> frozenset[str]:
        return frozenset(n.id for n in self.notes)

    def to_wire(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "title": self.title,
            "notes": [n.to_wire() for n in self.notes],
            "size": self.size,
            "rooms": self.rooms,
            "of_rooms": self.of_rooms,
            "by": self.by,
            "set_at": self.set_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }

    @classmethod
    def from_wire(cls, d: Mapping[str, Any]) -> Spotlight:
        kind = d["kind"]
        if kind not in KINDS:
            raise ValueError(f"unknown spotlight kind {kind!r}")
        return cls(
            kind,
            str(d["id"]),
            str(d["title"]),
            tuple(SpotNote.from_wire(n) for n in d["notes"]),
            _maybe_int(d.get("size")),
            _maybe_int(d.get("rooms")),
            _maybe_int(d.get("of_rooms")),
            str(d["by"]),
            datetime.fromisoformat(str(d["set_at"]).replace("Z", "+00:00")),
        )

    def with_notes(self, notes: Mapping[str, SpotNote]) -> Spotlight | None:
        """The same, its notes as they are now (`notes`: those still live, read fresh); a note
        spotlight whose note is gone is nothing."""
        kept = tuple(notes[n.id] for n in self.notes if n.id in notes)
        if self.kind == "note" and not kept:
            return None
        return replace(self, notes=kept)


def _maybe_int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]


def find_theme(themes: Mapping[str, Any] | None, theme_id: str) -> Mapping[str, Any] | None:
    """The theme of that id in a themes snapshot (docs/protocol.md, Themes), if any."""
    if themes is None:
        return None
    for theme in themes.get("themes", ()):
        if theme.get("id") == theme_id:
            return theme  # type: ignore[no-any-return]
    return None


def representative_ids(theme: Mapping[str, Any]) -> list[str]:
    return [str(r["id"]) for r in theme.get("representatives", ())][:THEME_NOTES]


def theme_spotlight(
    themes: Mapping[str, Any],
    theme: Mapping[str, Any],
    notes: Mapping[str, SpotNote],
    by: str,
    at: datetime,
) -> Spotlight:
    """A theme as the board shows it; `notes` are its representatives still on the walls,
    read fresh (a representative deleted since the snapshot is not shown)."""
    shown = tuple(notes[i] for i in representative_ids(theme) if i in notes)
    return Spotlight(
        "theme",
        str(theme["id"]),
        str(theme.get("label") or ""),
        shown,
        int(theme.get("size", 0)),
        len(theme.get("rooms", ())),
        int(themes.get("n_rooms", 0)),
        by,
        at,
    )


def room_spotlight(
    room_id: str, name: str, notes: Sequence[SpotNote], total: int, by: str, at: datetime
) -> Spotlight:
    """A table reporting back: `notes` are already its most supported, at most ROOM_NOTES."""
    return Spotlight("room", room_id, name, tuple(notes[:ROOM_NOTES]), total, None, None, by, at)


def note_spotlight(note: SpotNote, by: str, at: datetime) -> Spotlight:
    return Spotlight("note", note.id, note.room, (note,), None, None, None, by, at)


def most_supported(notes: Sequence[tuple[SpotNote, datetime]]) -> list[SpotNote]:
    """Most liked first, then the newest: what a table would read out first."""
    ordered = sorted(notes, key=lambda pair: (-pair[0].likes, -pair[1].timestamp(), pair[0].id))
    return [note for note, _ in ordered]
