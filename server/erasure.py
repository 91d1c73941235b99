"""Erasing an event once its assembly is over: the rows, the live connections, and what every
process holds of it in memory.

The store deletes the rows in one transaction (`store/erasure.py`). Then every connection of
the event, on every server process, gets `event.deleted` and is closed with
CLOSE_EVENT_DELETED, and every process, `tablee worker` ones included, is told on the ERASED
channel to forget the event: cached rooms, pending recounts, its step timer, its theme state
and the embeddings of its notes. A process that misses that order (it was cut off from
Redis) finds out at its next write for the event, which the foreign keys refuse: a theme
snapshot or a placement for an erased event is dropped there, never retried.
"""

from __future__ import annotations

import asyncio
import logging

from . import protocol
from .context import AppContext
from .hub import event_channel
from .rooms import Event
from .settings import Settings
from .store.erasure import EventCounts, erase_event

log = logging.getLogger("tablee")

CLOSE_EVENT_DELETED = 4410  # RFC 6455 leaves 4000-4999 to applications: 4000 + HTTP's 410 Gone
EVENT_DELETED_REASON = "the event was deleted"
# Broker channel of orders (`Hub.on_order`): the id of each event just erased.
ERASED = "hub:erased"


def deleted_frame(event_id: str) -> str:
    """The last frame a connection of an erased event gets, before CLOSE_EVENT_DELETED."""
    return protocol.encode("event.deleted", {"event": event_id})


async def erase(ctx: AppContext, event: Event) -> EventCounts | None:
    """Erase the event everywhere; what it held, or None if it was already gone."""
    counts = await erase_event(ctx.store, event.id)
    if counts is None:
        return None
    # After the commit: a connection closed earlier could reconnect in between, and its
    # token still worked. Each connection leaves its room as it closes.
    await ctx.hub.close_channel(
        event_channel(event.id),
        deleted_frame(event.id),
        CLOSE_EVENT_DELETED,
        EVENT_DELETED_REASON,
    )
    await ctx.forget_event(event.id)
    await ctx.hub.order(ERASED, event.id)
    if ctx.placement_stream is not None:
        # Queued placements carry the notes' texts; a worker would drop them anyway.
        from .placement_stream import PlacementStreamError

        try:
            await ctx.placement_stream.drop_event(event.id)
        except PlacementStreamError as exc:
            log.warning("queued placements of an erased event stay until trimmed: %s", exc)
    log.info(
        "event %s erased: %d notes, %d participants, %d rooms, %d answers",
        event.id,
        counts.notes,
        counts.participants,
        counts.rooms,
        counts.answers,
    )
    return counts


def hear_erasures(ctx: AppContext) -> None:
    """Forget each event another process erases. Before `ctx.hub.start()`."""
    forgetting: set[asyncio.Task[None]] = set()

    def erased(event_id: str) -> None:
        task = asyncio.get_running_loop().create_task(ctx.forget_event(event_id))
        forgetting.add(task)  # held until done: the loop keeps only a weak reference
        task.add_done_callback(forgetting.discard)

    ctx.hub.on_order(ERASED, erased)


async def tell_servers(settings: Settings, event_id: str) -> int | None:
    """From outside any server (`tablee delete-event`): the orders `erase` sends, through
    Redis; how many processes heard them. None with the in-process broker, which reaches
    no other process."""
    if not settings.broker_url.startswith(("redis://", "rediss://", "unix://")):
        return None
    import uuid

    import redis.asyncio as aioredis

    from .hub import CLOSINGS, closing_order, pack
    from .placement_stream import PlacementStream

    origin = "c" + uuid.uuid4().hex[:11]
    order = closing_order(
        event_channel(event_id), deleted_frame(event_id), CLOSE_EVENT_DELETED, EVENT_DELETED_REASON
    )
    # A plain client, whose publishes are answered: the servers' broker sends and moves on.
    client = aioredis.from_url(settings.broker_url, socket_connect_timeout=2)
    try:
        await client.publish(CLOSINGS, pack(origin, order))
        heard = int(await client.publish(ERASED, pack(origin, event_id)))
    finally:
        await client.aclose()
    stream = PlacementStream(settings.broker_url, settings.placement_stream)
    try:
        await stream.drop_event(event_id)
    finally:
        await stream.close()
    return heard
