"""A note's post on PostgreSQL: one statement, one round trip, on connections of its own.

Through SQLAlchemy a post was five round trips (begin, bump the room's seq, insert the note,
insert its diff frame, commit) and about 2 ms of this process's CPU, most of it in the
driver adapter and the pool checkout, not in PostgreSQL. Here the three writes are one
statement of data-modifying CTEs: atomic on its own, so no transaction round trips, and
prepared once per connection by asyncpg.

The diff frame holds three values only the statement knows (the seq, the room's epoch, the
step the note falls in). Python encodes the frame once with fixed values and cuts it around
them; the statement joins the pieces with the real values, so the stored frame is exactly
what `protocol.encode` makes, and it comes back with the row to be published as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime

import asyncpg
from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import IntegrityError

from .. import protocol
from ..rooms import Note, Participant, Room
from .posting import Posted, RoomGone, new_note, trim_upto

POST = """
WITH bumped AS (
    UPDATE rooms SET seq = seq + 1 WHERE id = $1::varchar RETURNING seq, epoch
), added AS (
    INSERT INTO notes
        (id, event_id, room_id, author_id, text, seq, created_at, updated_at, step_id)
    SELECT $2::varchar, $3::varchar, $1::varchar, $4::varchar, $5::text, bumped.seq,
        $6::timestamptz, $6::timestamptz,
        (SELECT step_id FROM agendas WHERE event_id = $3::varchar)
    FROM bumped
    RETURNING seq, step_id
), stored AS (
    INSERT INTO room_events (room_id, seq, frame, created_at)
    SELECT $1::varchar, added.seq,
        $7::text || added.seq || $8::text || to_json(bumped.epoch)::text || $9::text
            || coalesce(to_json(added.step_id)::text, 'null') || $10::text,
        $6::timestamptz
    FROM added, bumped
    RETURNING frame
)
SELECT added.seq, bumped.epoch, added.step_id, stored.frame FROM added, bumped, stored
"""

CONNECT_TIMEOUT = 5.0  # seconds

TRIM = "DELETE FROM room_events WHERE room_id = $1::varchar AND seq <= $2::integer"

_SEQ_AND_EPOCH = ',"seq":0,"epoch":""'
_STEP = '"step_id":null'


def frame_pieces(note: Note) -> tuple[str, str, str, str]:
    """The note.added frame cut around its seq, its epoch and its step id.

    The envelope's seq and epoch come before the payload, and the note's step id before its
    text, so the first occurrence of each is the one to cut at, whatever the text holds.
    """
    frame = protocol.encode(
        "note.added",
        {"note": replace(note, step_id=None).to_wire()},
        room=note.room_id,
        seq=0,
        epoch="",
    )
    head, found, rest = frame.partition(_SEQ_AND_EPOCH)
    middle, found_step, tail = rest.partition(_STEP)
    if not found or not found_step:
        raise AssertionError("note.added frame has changed shape")  # pragma: no cover
    return head + ',"seq":', ',"epoch":', middle + '"step_id":', tail


# What a connection cut by a restart or the network raises, at once or on its next use.
_CONNECTION_LOST = (
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
)


class PgPoster:
    """A few connections kept for posts, and the statement that stores one."""

    def __init__(self, url: str, on_restart: Callable[[], Awaitable[None]], size: int = 4) -> None:
        # SQLAlchemy's URL names the driver; asyncpg wants a plain postgresql:// DSN.
        self._dsn = make_url(url).set(drivername="postgresql").render_as_string(False)
        self._idle: deque[asyncpg.Connection] = deque()
        self._slots = asyncio.Semaphore(size)
        self._closed = False
        self._on_restart = on_restart  # the other pool's connections were cut too

    async def post(
        self,
        actor: Participant,
        room: Room,
        note_id: str,
        text: str,
        now: datetime,
        *,
        keep_frames: int,
        trim_every: int,
    ) -> Posted:
        note = new_note(actor, room, note_id, text, now, step_id=None)
        args = (room.id, note_id, room.event_id, actor.id, text, now, *frame_pieces(note))
        try:
            row = await self._run(args, room.id, keep_frames, trim_every)
        except _CONNECTION_LOST:
            # A restart cuts every connection: none of the idle ones is tried. The note's own
            # id makes a second try on a fresh one safe: if the first one committed, this one
            # finds the note and the store reads it back.
            await self._cut()
            row = await self._run(args, room.id, keep_frames, trim_every)
        note = replace(note, step_id=row["step_id"])
        return Posted(int(row["seq"]), str(row["epoch"]), str(row["frame"]), note)

    async def _run(
        self, args: tuple[object, ...], room_id: str, keep_frames: int, trim_every: int
    ) -> asyncpg.Record:
        async with self._slots:
            conn = await self._acquire()
            healthy = False
            try:
                row = await conn.fetchrow(POST, *args)
                healthy = True
                if row is None:
                    raise RoomGone(room_id)
                upto = trim_upto(int(row["seq"]), keep_frames, trim_every)
                if upto is not None:
                    await conn.execute(TRIM, room_id, upto)
                return row
            except asyncpg.UniqueViolationError as exc:
                healthy = True
                # As SQLAlchemy would raise it: the store reads back the note already posted.
                raise IntegrityError(POST, None, exc) from exc
            finally:
                self._release(conn, healthy)

    async def _acquire(self) -> asyncpg.Connection:
        while self._idle:
            conn = self._idle.pop()
            if not conn.is_closed():
                return conn
            await self._cut()
        # A database that does not answer fails the post soon; its author's client retries.
        return await asyncpg.connect(self._dsn, timeout=CONNECT_TIMEOUT)

    async def _cut(self) -> None:
        """A connection was found cut: so were the others, and the other pool's."""
        while self._idle:
            self._idle.pop().terminate()
        await self._on_restart()

    def _release(self, conn: asyncpg.Connection, healthy: bool) -> None:
        # A connection that failed mid-statement (a restart, a network cut) is not reused.
        if healthy and not self._closed and not conn.is_closed():
            self._idle.append(conn)
        else:
            conn.terminate()

    async def close(self) -> None:
        self._closed = True
        while self._idle:
            with contextlib.suppress(Exception):
                await self._idle.pop().close(timeout=2)
