"""`spotlight.set`, and keeping the screen true to what it shows: a note edited or deleted,
a theme renamed or hidden."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import replace
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

    async def fresh(now: Spotlight) -> Spotlight | None:
        return now.with_notes(await spot_notes(ctx.store, event_id, now.note_ids))

    await _amend(ctx, event_id, lambda now: not now.note_ids.isdisjoint(note_ids), fresh)


async def theme_renamed(ctx: AppContext, event_id: str, theme_id: str, label: str) -> None:
    """A facilitator renamed a theme: if it is on the screen, the screen says its new name at
    once, as the hall has just heard it, without waiting for the themes that carry it."""

    async def retitled(now: Spotlight) -> Spotlight:
        return replace(now, title=label)

    def applies(now: Spotlight) -> bool:
        return now.kind == "theme" and now.id == theme_id and now.title != label

    await _amend(ctx, event_id, applies, retitled)


async def theme_hidden(ctx: AppContext, event_id: str, theme_id: str) -> None:
    """A facilitator hid a theme from the board: it leaves the screen too."""

    async def cleared(now: Spotlight) -> None:
        return None

    await _amend(ctx, event_id, lambda now: now.kind == "theme" and now.id == theme_id, cleared)


async def _amend(
    ctx: AppContext,
    event_id: str,
    applies: Callable[[Spotlight], bool],
    change: Callable[[Spotlight], Awaitable[Spotlight | None]],
) -> None:
    """Show `change` of what the screen shows, if `applies` to it, unless a newer choice got
    there first."""
    for _ in range(_RETRIES):
        now = await shown(ctx.store, event_id)
        if now.spotlight is None or not applies(now.spotlight):
            return
        again = await change(now.spotlight)
        done = await show(ctx.store, event_id, again, if_version=now.version)
        if done is not None:
            await _publish(ctx, event_id, done)
            return
        # Changed meanwhile (a facilitator's choice, or another change read before this one
        # committed): look again, so this change is not lost behind it.


async def _publish(ctx: AppContext, event_id: str, done: Shown) -> None:
    # Everyone: the online tables see what the hall sees on the projector.
    await ctx.hub.publish(event_channel(event_id), protocol.encode("spotlight", done.to_wire()))
