"""The facilitators' console and the rooms' voice: broadcasts, help requests, plenary screens."""

from __future__ import annotations

import time

from . import event_messages, protocol
from .context import AppContext
from .event_fanout import publish_help
from .facilitation import check_can_raise_help, check_room_of_event
from .hub import Connection, event_channel, room_channel, staff_channel
from .protocol import ClientMessage
from .rooms import check_staff
from .store.notices import add_broadcast, open_help, raise_help, recent_broadcasts, resolve_help
from .store.seating import seated_people, topics

PLENARY_SCREEN_NAME = "Plenary screen"


async def console_watch(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    """Everything a console shows beside the walls: then diffs on the staff channel."""
    check_staff(conn.participant, "open the console")
    event_id = conn.participant.event_id
    # Listen first: a change published while the snapshot is read then arrives twice, and
    # every staff diff is an upsert, so twice is harmless; the other order could lose it.
    if staff_channel(event_id) not in conn.channels:
        await ctx.hub.listen(conn, staff_channel(event_id))
    people = await seated_people(ctx.store, event_id)
    payload = {
        "people": [p.to_wire() for p in people],
        "help": [h.to_wire() for h in await open_help(ctx.store, event_id)],
        "topics": [t.to_wire() for t in await topics(ctx.store, event_id)],
        "broadcasts": [
            b.to_wire() for b in await recent_broadcasts(ctx.store, event_id, None, everything=True)
        ],
    }
    conn.offer(protocol.ack_frame(msg.ref, payload))


async def broadcast_send(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, event_messages.BroadcastSend)
    check_staff(conn.participant, "broadcast")
    me = conn.participant
    room_id = None
    if p.room is not None:
        room_id = check_room_of_event(me, await ctx.room(p.room)).id
    sent = await add_broadcast(ctx.store, me, room_id, p.text)
    frame = protocol.encode("broadcast", sent.to_wire())
    conn.offer(protocol.ack_frame(msg.ref, {"broadcast": sent.to_wire()}))
    channel = room_channel(room_id) if room_id else event_channel(me.event_id)
    await ctx.hub.publish(channel, frame)


async def help_raise(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, event_messages.HelpRaise)
    room = check_room_of_event(conn.participant, await ctx.room(p.room))
    check_can_raise_help(conn.participant, room)
    raised = await raise_help(ctx.store, conn.participant, room.id, p.text)
    conn.offer(protocol.ack_frame(msg.ref, {"help": raised.to_wire()}))
    await publish_help(ctx, room.event_id, room.id, raised)


async def help_resolve(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, event_messages.RoomRef)
    check_staff(conn.participant, "mark help as handled")
    room = check_room_of_event(conn.participant, await ctx.room(p.room))
    resolved = await resolve_help(ctx.store, room.id, conn.participant)
    conn.offer(protocol.ack_frame(msg.ref, {"resolved": resolved}))
    if resolved:
        await publish_help(ctx, room.event_id, room.id, None)


async def observer_invite(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    """A read-only seat for a projector: its token goes into a link only the console builds."""
    check_staff(conn.participant, "invite a plenary screen")
    event_id = conn.participant.event_id
    screen = await ctx.store.join(event_id, PLENARY_SCREEN_NAME, "observer", None)
    token = ctx.signer.issue(screen.id, event_id, "observer", time.time())
    conn.offer(protocol.ack_frame(msg.ref, {"participant": screen.to_wire(), "token": token}))
