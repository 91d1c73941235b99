"""Who hears what while an event runs, and the live side of a seat change.

Channels beside the room and event ones: `staff:{event}` reaches the facilitators' consoles
(people, help flags, topics); `person:{participant}` reaches every connection of one person
(the notice that they were moved, or removed), whichever server process holds it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from . import protocol
from .agenda import Agenda, Effect, Ended, Warned, iso
from .context import AppContext
from .facilitation import HelpRequest, Move, Topic
from .hub import event_channel, room_channel, staff_channel
from .rooms import Event, Participant


def person_channel(participant_id: str) -> str:
    return f"person:{participant_id}"


def agenda_payload(agenda: Agenda) -> dict[str, Any]:
    return agenda.to_wire(time.time())


async def publish_agenda(ctx: AppContext, agenda: Agenda, effects: Sequence[Effect] = ()) -> None:
    """The new agenda to everyone, then what happened: the one-minute warning, the end."""
    channel = event_channel(agenda.event_id)
    await ctx.hub.publish(channel, protocol.encode("agenda.state", agenda_payload(agenda)))
    for effect in effects:
        if isinstance(effect, Warned):
            left = max(0, round(effect.ends_at - time.time()))
            frame = protocol.encode(
                "step.warning",
                {"step": effect.step_id, "ends_at": iso(effect.ends_at), "seconds": left},
            )
        elif isinstance(effect, Ended):
            frame = protocol.encode(
                "step.ended", {"step": effect.step_id, "recalled": effect.recalled}
            )
        await ctx.hub.publish(channel, frame)


async def publish_event(ctx: AppContext, event: Event) -> None:
    """The event itself changed (the participants' pages' language): to every connection of
    it, on every process, so open pages switch to it."""
    frame = protocol.encode("event.updated", {"event": event.to_wire()})
    await ctx.hub.publish(event_channel(event.id), frame)


async def publish_people(ctx: AppContext, event_id: str, people: Sequence[Participant]) -> None:
    """Seats and roles changed (or someone new joined): the consoles update those people."""
    if people:
        frame = protocol.encode("people.updated", {"people": [p.to_wire() for p in people]})
        await ctx.hub.publish(staff_channel(event_id), frame)


async def publish_help(
    ctx: AppContext, event_id: str, room_id: str, help_: HelpRequest | None
) -> None:
    """A room's help flag, raised or handled: to the consoles and to the room itself."""
    frame = protocol.encode(
        "help.updated", {"room": room_id, "help": help_.to_wire() if help_ else None}
    )
    await ctx.hub.publish(staff_channel(event_id), frame)
    await ctx.hub.publish(room_channel(room_id), frame)


async def publish_topics(ctx: AppContext, event_id: str, topics: Sequence[Topic]) -> None:
    frame = protocol.encode("topics.updated", {"topics": [t.to_wire() for t in topics]})
    await ctx.hub.publish(staff_channel(event_id), frame)


async def refresh_connections(ctx: AppContext, people: Sequence[Participant]) -> None:
    """Give this process's connections of these people their new seat or role.

    A connection leaves the room it no longer sits in at once (its presence there ends and it
    stops receiving that room); the client then joins its new room.
    """
    from .commands import leave_room  # commands registers these handlers: import when used

    fresh = {p.id: p for p in people}
    for conn in list(ctx.hub.connections):
        now = fresh.get(conn.participant.id)
        if now is None:
            continue
        before = conn.participant.room_id
        conn.participant = now
        if before is not None and before != now.room_id:
            await leave_room(ctx, conn, before)


async def apply_moves(ctx: AppContext, event_id: str, moves: Sequence[Move]) -> None:
    """After committed seat changes: update live connections, tell each person, update counts."""
    if not moves:
        return
    await refresh_connections(ctx, [m.participant for m in moves])
    rooms = {r.id: r for r in await ctx.store.rooms(event_id)}
    for m in moves:
        room = rooms.get(m.to_room)
        payload = {
            "participant": m.participant.to_wire(),
            "from": m.from_room,
            "room": room.to_wire() if room else {"id": m.to_room},
            "reason": m.reason,
        }
        await ctx.hub.publish(person_channel(m.participant.id), protocol.encode("moved", payload))
    await publish_people(ctx, event_id, [m.participant for m in moves])
    frame = protocol.encode("rooms.updated", {"rooms": [r.to_wire() for r in rooms.values()]})
    await ctx.hub.publish(event_channel(event_id), frame)
