"""Messages that change who sits where: moves, hosts, strategies, free choice, open-space topics."""

from __future__ import annotations

import random

from . import event_messages, protocol
from .context import AppContext
from .event_fanout import (
    apply_moves,
    person_channel,
    publish_people,
    publish_topics,
    refresh_connections,
)
from .facilitation import (
    check_can_choose_seat,
    check_can_propose_topic,
    check_movable,
    check_room_of_event,
)
from .hub import Connection
from .protocol import ClientMessage
from .rooms import check_staff
from .store.agenda import load_agenda
from .store.seating import decide_topic, move, propose_topic, seat_for_step, set_role


async def people_move(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, event_messages.PeopleMove)
    me = conn.participant
    check_staff(me, "move people")
    target = check_movable(me, await ctx.store.participant(p.participant))
    room = check_room_of_event(me, await ctx.room(p.room))
    moved = await move(ctx.store, me.event_id, target.id, room.id, "moved")
    if moved is not None:
        target = moved.participant
    conn.offer(protocol.ack_frame(msg.ref, {"participant": target.to_wire()}))
    await apply_moves(ctx, me.event_id, [moved] if moved else [])


async def people_role(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, event_messages.PeopleRole)
    me = conn.participant
    check_staff(me, "choose table hosts")
    target = check_movable(me, await ctx.store.participant(p.participant))
    updated = await set_role(ctx.store, me.event_id, target.id, p.role)
    conn.offer(protocol.ack_frame(msg.ref, {"participant": updated.to_wire()}))
    await refresh_connections(ctx, [updated])
    await publish_people(ctx, me.event_id, [updated])
    frame = protocol.encode("people.updated", {"people": [updated.to_wire()]})
    await ctx.hub.publish(person_channel(updated.id), frame)


async def rooms_assign(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, event_messages.RoomsAssign)
    me = conn.participant
    check_staff(me, "assign tables")
    agenda = await load_agenda(ctx.store, me.event_id)
    step_id = agenda.clock.step_id if agenda.clock.live else None
    moves = await seat_for_step(
        ctx.store, me.event_id, step_id, p.strategy, random.Random(), p.groups
    )
    conn.offer(protocol.ack_frame(msg.ref, {"moved": len(moves)}))
    await apply_moves(ctx, me.event_id, moves)


async def seat_choose(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, event_messages.RoomRef)
    me = conn.participant
    check_can_choose_seat(me, await load_agenda(ctx.store, me.event_id))
    room = check_room_of_event(me, await ctx.room(p.room))
    moved = await move(ctx.store, me.event_id, me.id, room.id, "chosen")
    now = moved.participant if moved else me
    conn.offer(protocol.ack_frame(msg.ref, {"participant": now.to_wire()}))
    await apply_moves(ctx, me.event_id, [moved] if moved else [])


async def topic_propose(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, event_messages.TopicPropose)
    me = conn.participant
    check_can_propose_topic(me, await load_agenda(ctx.store, me.event_id))
    topic = await propose_topic(ctx.store, me, p.title)
    conn.offer(protocol.ack_frame(msg.ref, {"topic": topic.to_wire()}))
    await publish_topics(ctx, me.event_id, [topic])


async def topic_decide(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, event_messages.TopicDecide)
    me = conn.participant
    check_staff(me, "accept or decline topics")
    topic, room, moved = await decide_topic(ctx.store, me.event_id, p.topic, p.accept, p.capacity)
    conn.offer(
        protocol.ack_frame(
            msg.ref, {"topic": topic.to_wire(), "room": room.to_wire() if room else None}
        )
    )
    await publish_topics(ctx, me.event_id, [topic])
    if moved is not None:
        await apply_moves(ctx, me.event_id, [moved])  # also announces the new room
    elif room is not None:
        await ctx.publish_rooms(me.event_id)
