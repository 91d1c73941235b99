"""Broadcasts, help requests, open-space topics and seat changes: the values and the rules. Pure.

Who may do what while an event runs: facilitators steer everything; a table may call for help
and hear what is broadcast to it; participants choose their own table only while seating is
free, and propose topics only while the current step collects them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from .agenda import Agenda
from .protocol import ErrorCode, ProtocolError
from .rooms import SEATED_ROLES, WRITE_ROLES, Participant, Room

TopicStatus = Literal["proposed", "accepted", "declined"]
MoveReason = Literal["moved", "assigned", "chosen", "topic"]


def _iso(ts: datetime) -> str:
    return ts.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Broadcast:
    id: str
    room_id: str | None  # None: to every room
    text: str
    sender: str  # pseudonym
    created_at: datetime

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "room": self.room_id,
            "text": self.text,
            "from": self.sender,
            "at": _iso(self.created_at),
        }


@dataclass(frozen=True, slots=True)
class HelpRequest:
    id: str
    room_id: str
    text: str
    by: Participant
    raised_at: datetime

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "room": self.room_id,
            "text": self.text,
            "by": self.by.member(),
            "raised_at": _iso(self.raised_at),
        }


@dataclass(frozen=True, slots=True)
class Topic:
    id: str
    title: str
    proposed_by: Participant
    status: TopicStatus
    room_id: str | None
    created_at: datetime

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "by": self.proposed_by.member(),
            "status": self.status,
            "room": self.room_id,
            "at": _iso(self.created_at),
        }


@dataclass(frozen=True, slots=True)
class Move:
    """A seat change that was committed: who, from where, to where, and why."""

    participant: Participant  # as they are now, seated at `to`
    from_room: str | None
    reason: MoveReason

    @property
    def to_room(self) -> str:
        assert self.participant.room_id is not None
        return self.participant.room_id


def check_can_raise_help(actor: Participant, room: Room) -> None:
    if room.event_id != actor.event_id:
        raise ProtocolError(ErrorCode.NOT_FOUND, "no such room")
    if actor.role == "facilitator":
        return
    if actor.role not in SEATED_ROLES:
        raise ProtocolError(ErrorCode.FORBIDDEN, f"a {actor.role} cannot call for help")
    if actor.room_id != room.id:
        raise ProtocolError(ErrorCode.NOT_MEMBER, "you are not in that room")


def check_can_choose_seat(actor: Participant, agenda: Agenda) -> None:
    if actor.role == "table_host":
        raise ProtocolError(ErrorCode.FORBIDDEN, "a table host stays at their table")
    if actor.role != "participant":
        raise ProtocolError(ErrorCode.FORBIDDEN, f"a {actor.role} has no seat to change")
    if not agenda.free_seating:
        raise ProtocolError(ErrorCode.CLOSED, "tables are assigned by the facilitators right now")


def check_can_propose_topic(actor: Participant, agenda: Agenda) -> None:
    if actor.role not in WRITE_ROLES:
        raise ProtocolError(ErrorCode.FORBIDDEN, f"a {actor.role} cannot propose a topic")
    if actor.role != "facilitator" and not agenda.topics_open:
        raise ProtocolError(ErrorCode.CLOSED, "topics are not being collected right now")


def check_movable(actor: Participant, target: Participant | None) -> Participant:
    """The person a facilitator wants to move or make host: in the same event, with a seat."""
    if target is None or target.event_id != actor.event_id:
        raise ProtocolError(ErrorCode.NOT_FOUND, "no such participant in this event")
    if target.removed:
        raise ProtocolError(ErrorCode.NOT_FOUND, f"{target.pseudonym} was removed from this event")
    if target.role not in SEATED_ROLES:
        raise ProtocolError(ErrorCode.INVALID, f"a {target.role} does not sit at a table")
    return target


def check_removable(actor: Participant, target: Participant | None) -> Participant:
    """The person a facilitator wants out of the event: anyone of it but a facilitator, who
    holds the event's secret and could come straight back as a co-facilitator."""
    if target is None or target.event_id != actor.event_id:
        raise ProtocolError(ErrorCode.NOT_FOUND, "no such participant in this event")
    if target.role == "facilitator":
        raise ProtocolError(
            ErrorCode.INVALID, "a facilitator cannot be removed: they hold the event's secret"
        )
    if target.removed:
        raise ProtocolError(ErrorCode.CONFLICT, f"{target.pseudonym} was already removed")
    return target


def check_not_removed(person: Participant) -> None:
    """Refuse a removed person's token wherever it is shown."""
    if person.removed:
        raise ProtocolError(ErrorCode.FORBIDDEN, "you were removed from this event")


def check_room_of_event(actor: Participant, room: Room | None) -> Room:
    if room is None or room.event_id != actor.event_id:
        raise ProtocolError(ErrorCode.NOT_FOUND, "no such room")
    return room
