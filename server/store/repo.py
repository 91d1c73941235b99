"""Async repository over SQLAlchemy: every read and write the server makes.

Sequence numbers are bumped in the same transaction that stores a change, and the diff frame
is stored with it, so a committed change and its frame can never disagree.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from .. import protocol
from ..languages import DEFAULT_LANGUAGE
from ..protocol import ErrorCode, ProtocolError, Role
from ..rooms import (
    SEATED_ROLES,
    Event,
    Note,
    Participant,
    Room,
    check_same_post,
    new_join_code,
    pick_room,
)
from . import posting
from .engine import make_engine, make_sqlite_writer
from .models import (
    EventRow,
    NoteRow,
    ParticipantRow,
    RoomEventRow,
    RoomRow,
)
from .pg_posting import PgPoster
from .rows import (
    bump_seq,
    count_members,
    event_of,
    likes_of,
    load_note,
    new_epoch,
    new_id,
    note_query,
    participant_of,
    room_head,
    room_notes,
    room_of,
    rooms_of,
    to_note,
    utc_now,
)
from .sqlite_writes import SqliteWrites
from .themes import ThemeRecords

TRIM_EVERY = 50
T = TypeVar("T")
RECENT_POSTS = 50_000


@dataclass(frozen=True, slots=True)
class Committed:
    """The result of a write to a room: its diff frame is None when nothing changed."""

    seq: int
    epoch: str
    frame: str | None
    note: Note | None


@dataclass(frozen=True, slots=True)
class RoomSnapshot:
    room: Room
    seq: int
    epoch: str
    notes: list[Note]


class Store:
    def __init__(self, url: str, *, history_per_room: int = 1000) -> None:
        self.engine: AsyncEngine = make_engine(url)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._history = history_per_room
        writer = make_sqlite_writer(url)
        self._sqlite = SqliteWrites(writer) if writer is not None else None
        # Ids of notes this process stored: their retries skip the write and read them back.
        self._recent_posts = posting.RecentIds(RECENT_POSTS)
        self.themes = ThemeRecords(self)
        # On PostgreSQL a post is one statement on connections of its own (`pg_posting`).
        self._pg_poster = (
            PgPoster(url, on_restart=functools.partial(self.engine.dispose, close=False))
            if self.engine.dialect.driver == "asyncpg"
            else None
        )

    async def close(self) -> None:
        if self._pg_poster is not None:
            await self._pg_poster.close()
        await self.engine.dispose()
        if self._sqlite is not None:
            await self._sqlite.close()

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    # for the store's other modules (agenda, seating, notices, themes) -------------------

    def session(self) -> AsyncSession:
        """A session for reads."""
        return self._sessions()

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction, queued behind the other writers on SQLite."""
        # SQLite has one writer; queueing writers here beats retrying "database is locked".
        lock = self._sqlite.lock if self._sqlite is not None else contextlib.nullcontext()
        async with lock, self._sessions() as session, session.begin():
            yield session

    async def bulk_read(self, read: Callable[[Connection], T]) -> T:
        """A read of a whole event (thousands of rows, megabytes of JSON), kept off the event
        loop where the driver allows: on SQLite, row and JSON decoding would otherwise stall
        every room's fan-out for the length of the read."""
        if self._sqlite is not None:
            reader = self._sqlite.engine

            def run() -> T:
                with reader.connect() as c:
                    return read(c)

            return await asyncio.to_thread(run)
        async with self.engine.connect() as conn:
            return await conn.run_sync(read)

    async def write_sync(self, write: Callable[[Connection], T]) -> T:
        """One transaction run by a blocking function: on SQLite on the writer thread with the
        blocking engine, queued behind the other writers (one call, where aiosqlite would
        switch threads for each statement); elsewhere through the driver's `run_sync`."""
        if self._sqlite is not None:
            return await self._sqlite.on_thread(write)
        async with self.engine.begin() as conn:
            return await conn.run_sync(write)

    # events and rooms ------------------------------------------------------------------

    async def create_event(
        self,
        title: str,
        secret_hash: str,
        rooms: Sequence[tuple[str, int]],
        language: str = DEFAULT_LANGUAGE,
    ) -> tuple[Event, list[Room]]:
        for _ in range(5):
            try:
                return await self._create_event(
                    title, secret_hash, rooms, new_join_code(), language
                )
            except IntegrityError:
                continue  # join code taken; draw another
        raise ProtocolError(ErrorCode.INTERNAL, "could not allocate a join code")

    async def _create_event(
        self,
        title: str,
        secret_hash: str,
        rooms: Sequence[tuple[str, int]],
        code: str,
        language: str,
    ) -> tuple[Event, list[Room]]:
        now = utc_now()
        event = EventRow(
            id=new_id(),
            title=title,
            join_code=code,
            secret_hash=secret_hash,
            created_at=now,
            language=language,
        )
        rows = [
            RoomRow(
                id=new_id(),
                event_id=event.id,
                name=name,
                capacity=capacity,
                position=i,
                seq=0,
                epoch=new_epoch(),
                created_at=now,
            )
            for i, (name, capacity) in enumerate(rooms)
        ]
        async with self.write() as s:
            s.add(event)
            await s.flush()
            s.add_all(rows)
        return event_of(event), [room_of(r, 0) for r in rows]

    async def event_by_code(self, code: str) -> tuple[Event, str] | None:
        async with self._sessions() as s:
            row = await s.scalar(select(EventRow).where(EventRow.join_code == code))
            return (event_of(row), row.secret_hash) if row else None

    async def event(self, event_id: str) -> Event | None:
        async with self._sessions() as s:
            row = await s.get(EventRow, event_id)
            return event_of(row) if row else None

    async def set_event_language(self, event_id: str, language: str) -> Event | None:
        """Store the participants' pages' language (checked by the caller); None: no event."""
        async with self.write() as s:
            row = await s.get(EventRow, event_id)
            if row is None:
                return None
            row.language = language
        return event_of(row)

    async def rooms(self, event_id: str) -> list[Room]:
        async with self._sessions() as s:
            return await rooms_of(s, event_id)

    async def room(self, room_id: str) -> Room | None:
        async with self._sessions() as s:
            row = await s.get(RoomRow, room_id)
            if row is None:
                return None
            return room_of(row, await count_members(s, room_id))

    async def create_room(self, event_id: str, name: str, capacity: int) -> Room:
        async with self.write() as s:
            position = await s.scalar(
                select(func.count()).select_from(RoomRow).where(RoomRow.event_id == event_id)
            )
            row = RoomRow(
                id=new_id(),
                event_id=event_id,
                name=name,
                capacity=capacity,
                position=int(position or 0),
                seq=0,
                epoch=new_epoch(),
                created_at=utc_now(),
            )
            s.add(row)
        return room_of(row, 0)

    # participants ------------------------------------------------------------------------

    async def join(
        self, event_id: str, pseudonym: str, role: Role, requested_room: str | None
    ) -> Participant:
        """Seat a participant: in the requested room if it has a seat, else the least full."""
        async with self.write() as s:
            room_id: str | None = None
            if role in SEATED_ROLES:
                # Lock the event's rooms so two joins cannot both take the last seat.
                await s.execute(
                    select(RoomRow.id).where(RoomRow.event_id == event_id).with_for_update()
                )
                room_id = pick_room(await rooms_of(s, event_id), requested_room).id
            elif requested_room is not None:
                room_id = requested_room
            row = ParticipantRow(
                id=new_id(),
                event_id=event_id,
                pseudonym=pseudonym,
                role=role,
                room_id=room_id,
                created_at=utc_now(),
            )
            s.add(row)
        return participant_of(row)

    async def participant(self, participant_id: str) -> Participant | None:
        async with self._sessions() as s:
            row = await s.get(ParticipantRow, participant_id)
            return participant_of(row) if row else None

    async def members(self, room_id: str) -> list[Participant]:
        async with self._sessions() as s:
            rows = await s.scalars(
                select(ParticipantRow)
                .where(ParticipantRow.room_id == room_id)
                .order_by(ParticipantRow.created_at)
            )
            return [participant_of(r) for r in rows]

    # notes -------------------------------------------------------------------------------

    async def note(self, note_id: str) -> Note | None:
        async with self._sessions() as s:
            return await load_note(s, note_id, include_deleted=False)

    async def post_note(
        self, actor: Participant, room: Room, note_id: str, text_: str
    ) -> Committed:
        """Store a new note, or return the stored one when this id was already posted."""
        # A retry seen here before is answered from a plain read: no write, no room lock.
        found = await self._posted(note_id) if note_id in self._recent_posts else None
        if found is None:
            try:
                committed = await self._insert_note(actor, room, note_id, text_)
                self._recent_posts.add(note_id)
                return committed
            except IntegrityError:
                # Posted before through another process, or a retry racing its original.
                found = await self._posted(note_id)
                if found is None:
                    raise
        existing, seq, epoch = found
        check_same_post(existing, room.id, actor.id)
        return Committed(seq, epoch, None, existing)

    async def _insert_note(
        self, actor: Participant, room: Room, note_id: str, text_: str
    ) -> Committed:
        now = utc_now()
        try:
            if self._pg_poster is not None:
                done = await self._pg_poster.post(
                    actor,
                    room,
                    note_id,
                    text_,
                    now,
                    keep_frames=self._history,
                    trim_every=TRIM_EVERY,
                )
            else:
                post = functools.partial(
                    posting.insert_note,
                    actor=actor,
                    room=room,
                    note_id=note_id,
                    text=text_,
                    now=now,
                    keep_frames=self._history,
                    trim_every=TRIM_EVERY,
                )
                assert self._sqlite is not None
                done = await self._sqlite.in_place(post)
        except posting.RoomGone:
            raise ProtocolError(ErrorCode.NOT_FOUND, "this room no longer exists") from None
        return Committed(done.seq, done.epoch, done.frame, done.note)

    async def _posted(self, note_id: str) -> tuple[Note, int, str] | None:
        """A stored note (deleted or not) with the seq of its note.added and its room's epoch."""
        async with self._sessions() as s:
            result = (
                await s.execute(
                    note_query()
                    .add_columns(RoomRow.epoch)
                    .join(RoomRow, RoomRow.id == NoteRow.room_id)
                    .where(NoteRow.id == note_id)
                )
            ).first()
            if result is None:
                return None
            row, pseudonym, role, epoch = result
            note = to_note(row, pseudonym, role, await likes_of(s, note_id))
            return note, int(row.seq), str(epoch)

    async def edit_note(self, room: Room, note_id: str, text_: str) -> Committed:
        async with self.write() as s:
            note = await load_note(s, note_id, include_deleted=False)
            if note is None or note.room_id != room.id:
                raise ProtocolError(ErrorCode.NOT_FOUND, "no such note in this room")
            if note.text == text_:
                seq, epoch = await room_head(s, room.id)
                return Committed(seq, epoch, None, note)
            now = utc_now()
            await s.execute(
                update(NoteRow).where(NoteRow.id == note_id).values(text=text_, updated_at=now)
            )
            seq, epoch = await bump_seq(s, room.id)
            edited = Note(
                note.id,
                note.room_id,
                note.author_id,
                note.author_pseudonym,
                note.author_role,
                text_,
                note.created_at,
                now,
                note.likes,
                note.step_id,
            )
            frame = await self.record_diff(
                s, room.id, seq, epoch, "note.edited", {"note": edited.to_wire()}
            )
            return Committed(seq, epoch, frame, edited)

    async def delete_note(self, room: Room, note_id: str) -> Committed:
        async with self.write() as s:
            row = await s.get(NoteRow, note_id)
            if row is None or row.room_id != room.id:
                raise ProtocolError(ErrorCode.NOT_FOUND, "no such note in this room")
            if row.deleted_at is not None:
                seq, epoch = await room_head(s, room.id)
                return Committed(seq, epoch, None, None)  # deleting twice is not an error
            return await self.tombstone(s, row)

    async def tombstone(self, s: AsyncSession, row: NoteRow) -> Committed:
        """Mark a live note deleted in `s`, with its room's `note.deleted` diff stored under
        the room's next seq; its `frame` is that diff."""
        row.deleted_at = utc_now()
        seq, epoch = await bump_seq(s, row.room_id)
        frame = await self.record_diff(s, row.room_id, seq, epoch, "note.deleted", {"id": row.id})
        return Committed(seq, epoch, frame, None)

    async def record_diff(
        self,
        s: AsyncSession,
        room_id: str,
        seq: int,
        epoch: str,
        type_: str,
        payload: dict[str, Any],
    ) -> str:
        """Store a room's diff frame under the seq `s` just took, as it will be broadcast."""
        frame = protocol.encode(type_, payload, room=room_id, seq=seq, epoch=epoch)
        s.add(RoomEventRow(room_id=room_id, seq=seq, frame=frame, created_at=utc_now()))
        if seq % TRIM_EVERY == 0 and seq > self._history:
            await s.execute(
                delete(RoomEventRow).where(
                    RoomEventRow.room_id == room_id, RoomEventRow.seq <= seq - self._history
                )
            )
        return frame

    # reading a room back ----------------------------------------------------------------

    async def snapshot(self, room_id: str) -> RoomSnapshot:
        async with self._sessions() as s:
            # The head is read before the notes: a change committed in between then shows in
            # the notes and again as a diff, and diffs are idempotent. The other order could
            # hide a change behind a head that claims it.
            row = await s.get(RoomRow, room_id)
            if row is None:
                raise ProtocolError(ErrorCode.NOT_FOUND, "no such room")
            seq, epoch = row.seq, row.epoch
            room = room_of(row, await count_members(s, room_id))
            notes = await room_notes(s, room_id)
            return RoomSnapshot(room, seq, epoch, notes)

    async def head(self, room_id: str) -> tuple[int, str]:
        """The room's last sequence number and its epoch."""
        async with self._sessions() as s:
            return await room_head(s, room_id)

    async def frames_since(self, room_id: str, since: int, epoch: str) -> list[str] | None:
        """Every diff frame after `since`, in order, or None when they are no longer all kept."""
        async with self._sessions() as s:
            head = await room_head(s, room_id)
            if head[1] != epoch or since > head[0]:
                return None
            if since == head[0]:
                return []
            rows = (
                await s.execute(
                    select(RoomEventRow.seq, RoomEventRow.frame)
                    .where(RoomEventRow.room_id == room_id, RoomEventRow.seq > since)
                    .order_by(RoomEventRow.seq)
                )
            ).all()
            if not rows or rows[0][0] != since + 1 or len(rows) != rows[-1][0] - since:
                return None
            return [str(r[1]) for r in rows]
