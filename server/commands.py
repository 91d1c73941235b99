"""What each client message does: check the sender's right, write, publish, answer.

The checks are the pure rules of `rooms`; writes go to the store; diffs are published only
after their transaction committed, and the sender's `ack` follows the same commit.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from . import protocol
from .context import AppContext
from .event_commands import EVENT_HANDLERS
from .hub import (
    Connection,
    room_channel,
    theme_diffs_channel,
    theme_snapshots_channel,
    themes_channel,
)
from .protocol import ClientMessage, ErrorCode, ProtocolError
from .removal import dismiss
from .rooms import (
    SEATED_ROLES,
    Room,
    check_can_modify,
    check_can_view,
    check_can_watch_themes,
    check_can_write,
    check_staff,
)
from .spotlight_handlers import notes_changed as spotlight_notes_changed
from .store import Committed
from .store.likes import set_like
from .theme_commands import THEME_HANDLERS, after_post
from .theme_messages import ThemesWatch

Handler = Callable[[AppContext, Connection, ClientMessage], Awaitable[None]]


async def _room(ctx: AppContext, room_id: str) -> Room:
    room = await ctx.room(room_id)
    if room is None:
        raise ProtocolError(ErrorCode.NOT_FOUND, "no such room")
    return room


async def _publish_change(ctx: AppContext, room: Room, done: Committed) -> None:
    if done.frame is not None:
        await ctx.hub.publish(room_channel(room.id), done.frame, done.seq, done.epoch)
        ctx.note_changed(room.event_id)


async def room_join(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, protocol.RoomJoin)
    room = await _room(ctx, p.room)
    if conn.participant.role in SEATED_ROLES and conn.participant.room_id != room.id:
        # Moved since this socket opened, perhaps by another server process: ask the store.
        conn.participant = await ctx.store.participant(conn.participant.id) or conn.participant
        if conn.participant.removed:  # a removal this socket did not hear
            dismiss(conn)
            return
    check_can_view(conn.participant, room)
    conn.start_room(room.id)
    await ctx.hub.listen(conn, room_channel(room.id))
    missed: list[str] | None = None
    if p.since is not None:
        missed = await ctx.store.frames_since(room.id, p.since.seq, p.since.epoch)
    arrived = None
    if conn.participant.role in SEATED_ROLES:
        arrived = await ctx.presence.join(room.id, conn.participant.member(), conn.id)
    payload: dict[str, Any]
    if missed is not None and p.since is not None:
        seq = p.since.seq + len(missed)
        payload = {
            "room": room.to_wire(),
            "epoch": p.since.epoch,
            "seq": seq,
            "recovered": True,
            "notes": None,
            "missed": [json.loads(f) for f in missed],
        }
    else:
        snap = await ctx.store.snapshot(room.id)
        seq = snap.seq
        payload = {
            "room": snap.room.to_wire(),
            "epoch": snap.epoch,
            "seq": snap.seq,
            "recovered": False,
            "notes": [n.to_wire() for n in snap.notes],
            "missed": [],
        }
    payload["members"] = await ctx.presence.members(room.id)
    conn.offer(protocol.encode("room.joined", payload, ref=msg.ref))
    conn.activate_room(room.id, seq)
    if arrived is not None:
        await _presence(ctx, room.id, joins=[arrived])


async def announce_leave(ctx: AppContext, room_id: str, member: dict[str, Any]) -> None:
    await _presence(ctx, room_id, leaves=[member])


async def _presence(
    ctx: AppContext,
    room_id: str,
    joins: list[dict[str, Any]] | None = None,
    leaves: list[dict[str, Any]] | None = None,
) -> None:
    frame = protocol.encode(
        "presence.diff", {"joins": joins or [], "leaves": leaves or []}, room=room_id
    )
    await ctx.hub.publish(room_channel(room_id), frame)


async def leave_room(ctx: AppContext, conn: Connection, room_id: str) -> None:
    if room_id not in conn.room_heads:
        return
    conn.stop_room(room_id)
    await ctx.hub.unlisten(conn, room_channel(room_id))
    left = await ctx.presence.leave(room_id, conn.participant.id, conn.id)
    if left is not None:
        await _presence(ctx, room_id, leaves=[left])


async def room_leave(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, protocol.RoomLeave)
    await leave_room(ctx, conn, p.room)
    conn.offer(protocol.ack_frame(msg.ref))


async def note_post(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, protocol.NotePost)
    room = await _room(ctx, p.room)
    check_can_write(conn.participant, room)
    done = await ctx.store.post_note(conn.participant, room, str(p.id), p.text)
    assert done.note is not None
    with conn.corked():
        conn.offer(protocol.ack_frame(msg.ref, {"note": done.note.to_wire(), "seq": done.seq}))
        await _publish_change(ctx, room, done)
    # Live themes: the note's theme and any near twin, sent after the ack, never before.
    after_post(ctx, conn, room.event_id, done.note)


async def note_edit(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, protocol.NoteEdit)
    room = await _checked_note_room(ctx, conn, p.room, str(p.id))
    done = await ctx.store.edit_note(room, str(p.id), p.text)
    assert done.note is not None
    conn.offer(protocol.ack_frame(msg.ref, {"note": done.note.to_wire(), "seq": done.seq}))
    await _publish_change(ctx, room, done)
    await spotlight_notes_changed(ctx, room.event_id, (str(p.id),))


async def note_delete(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, protocol.NoteRef)
    room = await _checked_note_room(ctx, conn, p.room, str(p.id))
    done = await ctx.store.delete_note(room, str(p.id))
    conn.offer(protocol.ack_frame(msg.ref, {"seq": done.seq}))
    await _publish_change(ctx, room, done)
    if done.frame is not None:  # deleted now, not before
        await spotlight_notes_changed(ctx, room.event_id, (str(p.id),))


async def _checked_note_room(ctx: AppContext, conn: Connection, room_id: str, note_id: str) -> Room:
    room = await _room(ctx, room_id)
    check_can_write(conn.participant, room)
    note = await ctx.store.note(note_id)
    if note is None or note.room_id != room.id:
        raise ProtocolError(ErrorCode.NOT_FOUND, "no such note in this room")
    check_can_modify(conn.participant, note)
    return room


async def _like(ctx: AppContext, conn: Connection, msg: ClientMessage, liked: bool) -> None:
    p = msg.payload
    assert isinstance(p, protocol.NoteRef)
    room = await _room(ctx, p.room)
    check_can_write(conn.participant, room)
    result = await set_like(ctx.store, room, str(p.id), conn.participant, liked)
    done = result.done
    conn.offer(protocol.ack_frame(msg.ref, {"seq": done.seq, "votes_left": result.votes_left}))
    if done.frame is not None:
        # Likes do not change what a note says, so themes need no update.
        await ctx.hub.publish(room_channel(room.id), done.frame, done.seq, done.epoch)


async def note_like(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    await _like(ctx, conn, msg, True)


async def note_unlike(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    await _like(ctx, conn, msg, False)


async def room_create(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, protocol.RoomCreate)
    check_staff(conn.participant, "create a room")
    room = await ctx.store.create_room(conn.participant.event_id, p.name, p.capacity)
    conn.offer(protocol.ack_frame(msg.ref, {"room": room.to_wire()}))
    await ctx.publish_rooms(conn.participant.event_id)


async def themes_watch(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    """Placements as they happen, and each re-clustering whole or as a diff. Asking again
    (a client that missed a diff, say) brings the latest snapshot again."""
    p = msg.payload
    assert isinstance(p, ThemesWatch)
    check_can_watch_themes(conn.participant)
    event_id = conn.participant.event_id
    wanted, other = theme_snapshots_channel(event_id), theme_diffs_channel(event_id)
    if p.diffs:
        wanted, other = other, wanted
    await ctx.hub.unlisten(conn, other)
    await ctx.hub.listen(conn, themes_channel(event_id))
    await ctx.hub.listen(conn, wanted)
    # External workers count: themes then come through the broker, not from this process.
    themes_on = ctx.worker is not None or ctx.jobs is not None
    conn.offer(protocol.ack_frame(msg.ref, {"worker": themes_on}))
    latest = await ctx.latest_themes_text(event_id)
    if latest is not None:
        conn.offer(protocol.encode_encoded("themes.snapshot", latest))


async def ping(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    conn.offer(protocol.encode("pong", {}, ref=msg.ref))


HANDLERS: dict[str, Handler] = {
    "room.join": room_join,
    "room.leave": room_leave,
    "note.post": note_post,
    "note.edit": note_edit,
    "note.delete": note_delete,
    "note.like": note_like,
    "note.unlike": note_unlike,
    "room.create": room_create,
    "themes.watch": themes_watch,
    "ping": ping,
    **EVENT_HANDLERS,  # running an event: agenda, timers, seating, broadcasts, help, topics
    **THEME_HANDLERS,  # facilitators steering themes
}
assert set(HANDLERS) == set(protocol.CLIENT_TYPES), "every client message needs a handler"
