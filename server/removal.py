"""Taking someone out of an event: `people.remove`, and the end of their connections.

A removed person keeps their row (their notes keep an author until deleted), loses their
seat, and their token is refused wherever it is shown: a WebSocket opened with it gets an
`error` (forbidden) and is closed with CLOSE_REMOVED, an HTTP request 403. Joining again
through the event's public link makes a new participant: the link is public by design.
"""

from __future__ import annotations

from . import event_messages, protocol
from .answer_handlers import answers_changed
from .context import AppContext
from .event_fanout import person_channel
from .hub import Connection, room_channel, staff_channel
from .protocol import ClientMessage
from .rooms import check_staff
from .spotlight_handlers import notes_changed as spotlight_notes_changed
from .store.removal import remove_participant

CLOSE_REMOVED = 4403  # RFC 6455 leaves 4000-4999 to applications: 4000 + HTTP's 403
REMOVED_REASON = "removed from the event"


def removed_frame(participant_id: str) -> str:
    return protocol.encode("removed", {"participant": participant_id})


def dismiss(conn: Connection) -> None:
    """A connection of someone found removed: told so, then closed."""
    conn.end(removed_frame(conn.participant.id), CLOSE_REMOVED, REMOVED_REASON)


async def people_remove(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, event_messages.PeopleRemove)
    me = conn.participant
    check_staff(me, "remove people")
    done = await remove_participant(ctx.store, me, p.participant, p.delete_notes)
    gone = done.participant
    conn.offer(
        protocol.ack_frame(
            msg.ref, {"participant": gone.to_wire(), "deleted_notes": len(done.deleted)}
        )
    )
    for diff in done.deleted:
        await ctx.hub.publish(room_channel(diff.room_id), diff.frame, diff.seq, diff.epoch)
    if done.deleted:
        ctx.note_changed(me.event_id)  # the themes drop them at the next re-clustering
        await spotlight_notes_changed(ctx, me.event_id, done.note_ids)
    # Each of their connections leaves its room as it closes: the room sees a presence leave.
    await ctx.hub.close_channel(
        person_channel(gone.id), removed_frame(gone.id), CLOSE_REMOVED, REMOVED_REASON
    )
    # Without a seat in `people`, so a console that reads only that stops showing them at
    # a table; `removed` says they are gone for good.
    frame = protocol.encode("people.updated", {"people": [gone.to_wire()], "removed": [gone.id]})
    await ctx.hub.publish(staff_channel(me.event_id), frame)
    if done.from_room is not None:
        ctx.seats_changed(me.event_id)
    # Their answers are gone, and they no longer count among those who may answer.
    answers_changed(ctx, me.event_id)
