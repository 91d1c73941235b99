"""`spotlight.set`, and keeping the screen true to the walls when a shown note changes."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from . import event_messages, protocol
from .context import AppContext
from .hub import Connection, event_channel
from .protocol import ClientMessage, ErrorCode, ProtocolError
from .rooms import check_staff
from .spotlight import (
    Spotlight,
    SpotlightKind,
    find_theme,
    most_supported,
    note_spotlight,
    representative_ids,
    room_spotlight,
    theme_spotlight,
)
from .store.agenda import load_agenda
from .store.rows import utc_now
from .store.spotlight import Shown, room_spot_notes, show, shown, spot_notes

_RETRIES = 5


async def spotlight_set(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, event_messages.SpotlightSet)
    me = conn.participant
    check_staff(me, "choose what the plenary screen shows")
    spotlight = None
    target = _target(p)
    if target is not None:
        kind, target_id = target
        spotlight = await resolve(ctx, me.event_id, kind, target_id, me.pseudonym, utc_now())
        if spotlight is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"no such {kind} in this event")
    done = await show(ctx.store, me.event_id, spotlight)
    assert done is not None
    conn.offer(protocol.ack_frame(msg.ref, done.to_wire()))
    await _publish(ctx, me.event_id, done)


def _target(p: event_messages.SpotlightSet) -> tuple[SpotlightKind, str] | None:
    if p.theme is not None:
        return "theme", p.theme
    if p.room is not None:
        return "room", p.room
    if p.note is not None:
        return "note", str(p.note)
    return None


async def resolve(
    ctx: AppContext, event_id: str, kind: SpotlightKind, target_id: str, by: str, at: datetime
) -> Spotlight | None:
    """What the screen shows of that theme, room or note now; None if the event has none."""
    if kind == "theme":
        themes = await ctx.latest_themes(event_id)
        theme = find_theme(themes, target_id)
        if themes is None or theme is None:
            return None
        notes = await spot_notes(ctx.store, event_id, representative_ids(theme))
        return theme_spotlight(themes, theme, notes, by, at)
    if kind == "room":
        room = await ctx.room(target_id)
        if room is None or room.event_id != event_id:
            return None
        # The table reports on the step being run, as its wall shows it.
        step = (await load_agenda(ctx.store, event_id)).current
        written = await room_spot_notes(ctx.store, room.id, step.id if step else None)
        return room_spotlight(room.id, room.name, most_supported(written), len(written), by, at)
    note = (await spot_notes(ctx.store, event_id, [target_id])).get(target_id)
    return note_spotlight(note, by, at) if note is not None else None


async def notes_changed(ctx: AppContext, event_id: str, note_ids: Collection[str]) -> None:
    """Notes were edited or deleted: if the screen shows any, it shows them as they are now
    (a deleted note leaves it)."""
    for _ in range(_RETRIES):
        now = await shown(ctx.store, event_id)
        if now.spotlight is None or now.spotlight.note_ids.isdisjoint(note_ids):
            return
        fresh = await spot_notes(ctx.store, event_id, now.spotlight.note_ids)
        again = now.spotlight.with_notes(fresh)
        done = await show(ctx.store, event_id, again, if_version=now.version)
        if done is not None:
            await _publish(ctx, event_id, done)
            return
        # Changed meanwhile (a facilitator's choice, or another note's change read before
        # this one committed): look again, so this change is not lost behind it.


async def _publish(ctx: AppContext, event_id: str, done: Shown) -> None:
    # Everyone: the online tables see what the hall sees on the projector.
    await ctx.hub.publish(event_channel(event_id), protocol.encode("spotlight", done.to_wire()))
