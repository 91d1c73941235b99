"""Events, rooms, participants and notes: the values and the rules that govern them. Pure.

The database holds the state; these functions decide, from the values read in a transaction,
whether a change is allowed and what it looks like on the wire.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .languages import DEFAULT_LANGUAGE, TABLE_WORD
from .protocol import ErrorCode, ProtocolError, Role

JOIN_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud in a hall
JOIN_CODE_LENGTH = 6

STAFF_ROLES: frozenset[str] = frozenset({"facilitator"})
WATCH_ROLES: frozenset[str] = frozenset({"facilitator", "observer"})
WRITE_ROLES: frozenset[str] = frozenset({"participant", "facilitator", "table_host"})
# Roles that take a seat at a table and show in its presence list.
SEATED_ROLES: frozenset[str] = frozenset({"participant", "table_host"})


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    title: str
    join_code: str
    # What the participants' pages speak (`languages.LANGUAGES`), and the console by default.
    language: str = DEFAULT_LANGUAGE

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "join_code": self.join_code,
            "language": self.language,
        }


@dataclass(frozen=True, slots=True)
class Room:
    id: str
    event_id: str
    name: str
    capacity: int
    members: int = 0

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "capacity": self.capacity,
            "members": self.members,
        }


@dataclass(frozen=True, slots=True)
class Participant:
    id: str
    event_id: str
    pseudonym: str
    role: Role
    room_id: str | None
    # Taken out of the event by a facilitator: without a seat, and their token refused.
    removed: bool = False

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "pseudonym": self.pseudonym,
            "role": self.role,
            "room_id": self.room_id,
        }

    def member(self) -> dict[str, Any]:
        return {"id": self.id, "pseudonym": self.pseudonym, "role": self.role}


@dataclass(frozen=True, slots=True)
class Note:
    id: str
    room_id: str
    author_id: str
    author_pseudonym: str
    author_role: str
    text: str
    created_at: datetime
    updated_at: datetime
    likes: tuple[str, ...] = field(default=())
    step_id: str | None = None  # the agenda step it was written in

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "room_id": self.room_id,
            "step_id": self.step_id,
            "author": {
                "id": self.author_id,
                "pseudonym": self.author_pseudonym,
                "role": self.author_role,
            },
            "text": self.text,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "likes": list(self.likes),
        }


def _iso(ts: datetime) -> str:
    return ts.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def normalise_join_code(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")


def clean_pseudonym(raw: object, max_chars: int = 40) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ProtocolError(ErrorCode.INVALID, "pseudonym is required")
    name = " ".join(raw.split())
    if len(name) > max_chars:
        raise ProtocolError(ErrorCode.INVALID, f"pseudonym is longer than {max_chars} characters")
    return name


def default_room_names(count: int, language: str = DEFAULT_LANGUAGE) -> list[str]:
    """Numbered tables, named in the language their participants read."""
    word = TABLE_WORD.get(language, TABLE_WORD[DEFAULT_LANGUAGE])
    return [f"{word} {i}" for i in range(1, count + 1)]


def pick_room(rooms: Sequence[Room], requested: str | None) -> Room:
    """The requested room if it has a seat, else the least-full room (earliest first on ties)."""
    if requested is not None:
        for room in rooms:
            if room.id == requested:
                if room.members >= room.capacity:
                    raise ProtocolError(ErrorCode.ROOM_FULL, f"{room.name} is full")
                return room
        raise ProtocolError(ErrorCode.NOT_FOUND, "no such room in this event")
    open_rooms = [r for r in rooms if r.members < r.capacity]
    if not open_rooms:
        raise ProtocolError(ErrorCode.ROOM_FULL, "every room is full")
    # min() keeps the first of equals, so people fill tables in their listed order.
    return min(open_rooms, key=lambda r: r.members / r.capacity)


def check_can_view(actor: Participant, room: Room) -> None:
    if room.event_id != actor.event_id:
        raise ProtocolError(ErrorCode.NOT_FOUND, "no such room")
    if actor.role in WATCH_ROLES:
        return
    if actor.room_id != room.id:
        raise ProtocolError(ErrorCode.NOT_MEMBER, "you are not in that room")


def check_can_write(actor: Participant, room: Room) -> None:
    if actor.role not in WRITE_ROLES:
        raise ProtocolError(ErrorCode.FORBIDDEN, f"a {actor.role} cannot write on a wall")
    check_can_view(actor, room)


def check_can_modify(actor: Participant, note: Note) -> None:
    if actor.role in STAFF_ROLES or actor.id == note.author_id:
        return
    raise ProtocolError(ErrorCode.FORBIDDEN, "only its author or a facilitator can change a note")


def check_staff(actor: Participant, what: str) -> None:
    if actor.role not in STAFF_ROLES:
        raise ProtocolError(ErrorCode.FORBIDDEN, f"only a facilitator can {what}")


def check_can_watch_themes(actor: Participant) -> None:
    if actor.role not in WATCH_ROLES:
        raise ProtocolError(ErrorCode.FORBIDDEN, "only facilitators and observers see themes")


def bound_by_votes(actor: Participant, budget: int) -> bool:
    """Whether a step's vote budget limits `actor`'s likes: the people at the tables vote;
    facilitators steer, and observers like nothing."""
    return budget > 0 and actor.role in SEATED_ROLES


def votes_left(actor: Participant, budget: int, used: int) -> int | None:
    """Likes `actor` may still give in a step with `budget` votes, having given `used` in it;
    None when nothing limits them."""
    return max(0, budget - used) if bound_by_votes(actor, budget) else None


def check_vote_left(actor: Participant, budget: int, used: int) -> None:
    if votes_left(actor, budget, used) == 0:
        raise ProtocolError(
            ErrorCode.NO_VOTES_LEFT, f"no votes left in this step: each person has {budget}"
        )


def check_same_post(existing: Note, room_id: str, author_id: str) -> None:
    """A retried post is the same note; an id reused for something else is a conflict."""
    if existing.room_id != room_id or existing.author_id != author_id:
        raise ProtocolError(ErrorCode.CONFLICT, "this note id is already used")
