"""Async repository over SQLAlchemy: every read and write the server makes.

Sequence numbers are bumped in the same transaction that stores a change, and the diff frame
is stored with it, so a committed change and its frame can never disagree.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    Connection,
    Text,
    cast,
    delete,
    func,
    insert,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from nlp.steering import Edit

from .. import protocol
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
from .edits import edit_detail, edit_from_row
from .engine import make_engine, make_sqlite_writer
from .models import (
    EventRow,
    LikeRow,
    NoteRow,
    ParticipantRow,
    RoomEventRow,
    RoomRow,
    ThemeEditRow,
    ThemeSnapshotRow,
)

TRIM_EVERY = 50
T = TypeVar("T")
RECENT_POSTS = 50_000


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(ts: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored is UTC.
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


def _new_id() -> str:
    return uuid.uuid4().hex


def _new_epoch() -> str:
    return "e-" + uuid.uuid4().hex[:12]


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


@dataclass(frozen=True, slots=True)
class NoteForThemes:
    id: str
    text: str
    room_id: str
    created_at: datetime | None = None


class Store:
    def __init__(self, url: str, *, history_per_room: int = 1000) -> None:
        self.engine: AsyncEngine = make_engine(url)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._history = history_per_room
        self._writer = make_sqlite_writer(url)
        self._writer_thread = (
            ThreadPoolExecutor(1, thread_name_prefix="tablee-sqlite-writer")
            if self._writer is not None
            else None
        )
        # Ids of notes this process stored: their retries skip the write and read them back.
        self._recent_posts = posting.RecentIds(RECENT_POSTS)
        # SQLite has one writer; queueing writers here beats retrying "database is locked".
        self._write_lock: asyncio.Lock | None = (
            asyncio.Lock() if self.engine.dialect.name == "sqlite" else None
        )

    async def close(self) -> None:
        await self.engine.dispose()
        if self._writer_thread is not None:
            self._writer_thread.shutdown(wait=True)
        if self._writer is not None:
            self._writer.dispose()

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    @contextlib.asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncSession]:
        lock = self._write_lock or contextlib.nullcontext()
        async with lock, self._sessions() as session, session.begin():
            yield session

    # events and rooms ------------------------------------------------------------------

    async def create_event(
        self, title: str, secret_hash: str, rooms: Sequence[tuple[str, int]]
    ) -> tuple[Event, list[Room]]:
        for _ in range(5):
            try:
                return await self._create_event(title, secret_hash, rooms, new_join_code())
            except IntegrityError:
                continue  # join code taken; draw another
        raise ProtocolError(ErrorCode.INTERNAL, "could not allocate a join code")

    async def _create_event(
        self, title: str, secret_hash: str, rooms: Sequence[tuple[str, int]], code: str
    ) -> tuple[Event, list[Room]]:
        now = _now()
        event = EventRow(
            id=_new_id(), title=title, join_code=code, secret_hash=secret_hash, created_at=now
        )
        rows = [
            RoomRow(
                id=_new_id(),
                event_id=event.id,
                name=name,
                capacity=capacity,
                position=i,
                seq=0,
                epoch=_new_epoch(),
                created_at=now,
            )
            for i, (name, capacity) in enumerate(rooms)
        ]
        async with self._write() as s:
            s.add(event)
            await s.flush()
            s.add_all(rows)
        return _event(event), [_room(r, 0) for r in rows]

    async def event_by_code(self, code: str) -> tuple[Event, str] | None:
        async with self._sessions() as s:
            row = await s.scalar(select(EventRow).where(EventRow.join_code == code))
            return (_event(row), row.secret_hash) if row else None

    async def event(self, event_id: str) -> Event | None:
        async with self._sessions() as s:
            row = await s.get(EventRow, event_id)
            return _event(row) if row else None

    async def rooms(self, event_id: str) -> list[Room]:
        async with self._sessions() as s:
            return await _rooms(s, event_id)

    async def room(self, room_id: str) -> Room | None:
        async with self._sessions() as s:
            row = await s.get(RoomRow, room_id)
            if row is None:
                return None
            return _room(row, await _members(s, room_id))

    async def create_room(self, event_id: str, name: str, capacity: int) -> Room:
        async with self._write() as s:
            position = await s.scalar(
                select(func.count()).select_from(RoomRow).where(RoomRow.event_id == event_id)
            )
            row = RoomRow(
                id=_new_id(),
                event_id=event_id,
                name=name,
                capacity=capacity,
                position=int(position or 0),
                seq=0,
                epoch=_new_epoch(),
                created_at=_now(),
            )
            s.add(row)
        return _room(row, 0)

    # participants ------------------------------------------------------------------------

    async def join(
        self, event_id: str, pseudonym: str, role: Role, requested_room: str | None
    ) -> Participant:
        """Seat a participant: in the requested room if it has a seat, else the least full."""
        async with self._write() as s:
            room_id: str | None = None
            if role in SEATED_ROLES:
                # Lock the event's rooms so two joins cannot both take the last seat.
                await s.execute(
                    select(RoomRow.id).where(RoomRow.event_id == event_id).with_for_update()
                )
                room_id = pick_room(await _rooms(s, event_id), requested_room).id
            elif requested_room is not None:
                room_id = requested_room
            row = ParticipantRow(
                id=_new_id(),
                event_id=event_id,
                pseudonym=pseudonym,
                role=role,
                room_id=room_id,
                created_at=_now(),
            )
            s.add(row)
        return _participant(row)

    async def participant(self, participant_id: str) -> Participant | None:
        async with self._sessions() as s:
            row = await s.get(ParticipantRow, participant_id)
            return _participant(row) if row else None

    async def members(self, room_id: str) -> list[Participant]:
        async with self._sessions() as s:
            rows = await s.scalars(
                select(ParticipantRow)
                .where(ParticipantRow.room_id == room_id)
                .order_by(ParticipantRow.created_at)
            )
            return [_participant(r) for r in rows]

    # notes -------------------------------------------------------------------------------

    async def note(self, note_id: str) -> Note | None:
        async with self._sessions() as s:
            return await _note(s, note_id, include_deleted=False)

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
        post = functools.partial(
            posting.insert_note,
            actor=actor,
            room=room,
            note_id=note_id,
            text=text_,
            now=_now(),
            keep_frames=self._history,
            trim_every=TRIM_EVERY,
        )
        if self._writer is not None and self._writer_thread is not None:
            writer = self._writer

            def run() -> posting.Posted:
                with writer.begin() as c:
                    return post(c)

            assert self._write_lock is not None
            async with self._write_lock:
                loop = asyncio.get_running_loop()
                done = await loop.run_in_executor(self._writer_thread, run)
        else:
            try:
                async with self.engine.begin() as c:
                    done = await c.run_sync(lambda sync: post(sync))
            except DBAPIError as exc:
                # A pooled connection the database dropped (a restart): SQLAlchemy has now
                # renewed the pool, and the note's own id makes a second try safe.
                if not exc.connection_invalidated:
                    raise
                async with self.engine.begin() as c:
                    done = await c.run_sync(lambda sync: post(sync))
        return Committed(done.seq, done.epoch, done.frame, done.note)

    async def _posted(self, note_id: str) -> tuple[Note, int, str] | None:
        """A stored note (deleted or not) with the seq of its note.added and its room's epoch."""
        async with self._sessions() as s:
            result = (
                await s.execute(
                    _note_query()
                    .add_columns(RoomRow.epoch)
                    .join(RoomRow, RoomRow.id == NoteRow.room_id)
                    .where(NoteRow.id == note_id)
                )
            ).first()
            if result is None:
                return None
            row, pseudonym, role, epoch = result
            note = _to_note(row, pseudonym, role, await _likes(s, note_id))
            return note, int(row.seq), str(epoch)

    async def edit_note(self, room: Room, note_id: str, text_: str) -> Committed:
        async with self._write() as s:
            note = await _note(s, note_id, include_deleted=False)
            if note is None or note.room_id != room.id:
                raise ProtocolError(ErrorCode.NOT_FOUND, "no such note in this room")
            if note.text == text_:
                seq, epoch = await _head(s, room.id)
                return Committed(seq, epoch, None, note)
            now = _now()
            await s.execute(
                update(NoteRow).where(NoteRow.id == note_id).values(text=text_, updated_at=now)
            )
            seq, epoch = await _bump(s, room.id)
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
            frame = await self._record(
                s, room.id, seq, epoch, "note.edited", {"note": edited.to_wire()}
            )
            return Committed(seq, epoch, frame, edited)

    async def delete_note(self, room: Room, note_id: str) -> Committed:
        async with self._write() as s:
            row = await s.get(NoteRow, note_id)
            if row is None or row.room_id != room.id:
                raise ProtocolError(ErrorCode.NOT_FOUND, "no such note in this room")
            if row.deleted_at is not None:
                seq, epoch = await _head(s, room.id)
                return Committed(seq, epoch, None, None)  # deleting twice is not an error
            row.deleted_at = _now()
            seq, epoch = await _bump(s, room.id)
            frame = await self._record(s, room.id, seq, epoch, "note.deleted", {"id": note_id})
            return Committed(seq, epoch, frame, None)

    async def set_like(
        self, room: Room, note_id: str, participant_id: str, liked: bool
    ) -> Committed:
        async with self._write() as s:
            note = await _note(s, note_id, include_deleted=False)
            if note is None or note.room_id != room.id:
                raise ProtocolError(ErrorCode.NOT_FOUND, "no such note in this room")
            if (participant_id in note.likes) == liked:
                seq, epoch = await _head(s, room.id)
                return Committed(seq, epoch, None, note)
            if liked:
                s.add(LikeRow(note_id=note_id, participant_id=participant_id, created_at=_now()))
            else:
                await s.execute(
                    delete(LikeRow).where(
                        LikeRow.note_id == note_id, LikeRow.participant_id == participant_id
                    )
                )
            await s.flush()
            likes = await _likes(s, note_id)
            seq, epoch = await _bump(s, room.id)
            frame = await self._record(
                s, room.id, seq, epoch, "note.likes", {"id": note_id, "likes": list(likes)}
            )
            return Committed(seq, epoch, frame, None)

    async def _record(
        self,
        s: AsyncSession,
        room_id: str,
        seq: int,
        epoch: str,
        type_: str,
        payload: dict[str, Any],
    ) -> str:
        frame = protocol.encode(type_, payload, room=room_id, seq=seq, epoch=epoch)
        s.add(RoomEventRow(room_id=room_id, seq=seq, frame=frame, created_at=_now()))
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
            room = _room(row, await _members(s, room_id))
            notes = await _room_notes(s, room_id)
            return RoomSnapshot(room, seq, epoch, notes)

    async def head(self, room_id: str) -> tuple[int, str]:
        """The room's last sequence number and its epoch."""
        async with self._sessions() as s:
            return await _head(s, room_id)

    async def frames_since(self, room_id: str, since: int, epoch: str) -> list[str] | None:
        """Every diff frame after `since`, in order, or None when they are no longer all kept."""
        async with self._sessions() as s:
            head = await _head(s, room_id)
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

    # themes ------------------------------------------------------------------------------

    async def notes_for_themes(self, event_id: str) -> list[NoteForThemes]:
        def read(c: Connection) -> list[NoteForThemes]:
            rows = c.execute(
                select(NoteRow.id, NoteRow.text, NoteRow.room_id, NoteRow.created_at)
                .where(NoteRow.event_id == event_id, NoteRow.deleted_at.is_(None))
                .order_by(NoteRow.created_at, NoteRow.id)
            )
            return [
                NoteForThemes(str(r[0]), str(r[1]), str(r[2]), _utc(r[3]) if r[3] else None)
                for r in rows
            ]

        return await self._bulk_read(read)

    async def _bulk_read(self, read: Callable[[Connection], T]) -> T:
        """A read of a whole event (thousands of rows, megabytes of JSON), kept off the event
        loop where the driver allows: on SQLite, row and JSON decoding would otherwise stall
        every room's fan-out for the length of the read."""
        writer = self._writer
        if writer is not None:

            def run() -> T:
                with writer.connect() as c:
                    return read(c)

            return await asyncio.to_thread(run)
        async with self.engine.connect() as conn:
            return await conn.run_sync(read)

    async def save_themes(
        self, event_id: str, version: int, payload: str, notes_read_at: datetime
    ) -> bool:
        """Store a theme snapshot, given as its JSON text; False when another worker stored
        this version first."""

        def save(c: Connection) -> None:
            c.execute(
                insert(ThemeSnapshotRow).values(
                    event_id=event_id,
                    version=version,
                    # Already encoded where it was made: stored as it is, never re-encoded.
                    payload=_json_text(c, payload),
                    created_at=_now(),
                    notes_read_at=notes_read_at,
                )
            )
            # Older snapshots are not read back; keep a short tail for inspection.
            c.execute(
                delete(ThemeSnapshotRow).where(
                    ThemeSnapshotRow.event_id == event_id,
                    ThemeSnapshotRow.version <= version - 20,
                )
            )

        try:
            writer = self._writer
            if writer is not None and self._write_lock is not None:
                # A large snapshot is megabytes to write: on the writer thread, not the loop.

                def run() -> None:
                    with writer.begin() as c:
                        save(c)

                async with self._write_lock:
                    await asyncio.to_thread(run)
            else:
                async with self.engine.begin() as conn:
                    await conn.run_sync(save)
        except IntegrityError:
            return False
        return True

    async def events_needing_themes(self) -> list[str]:
        """Events with a note changed after their latest themes read the notes."""
        async with self._sessions() as s:
            changed: dict[str, datetime] = {}
            for column in (NoteRow.updated_at, NoteRow.deleted_at):
                rows = await s.execute(
                    select(NoteRow.event_id, func.max(column)).group_by(NoteRow.event_id)
                )
                for event_id, ts in rows:
                    if ts is not None:
                        ts = _utc(ts)
                        changed[event_id] = max(changed.get(event_id, ts), ts)
            covered = {
                event_id: _utc(ts)
                for event_id, ts in await s.execute(
                    select(
                        ThemeSnapshotRow.event_id, func.max(ThemeSnapshotRow.notes_read_at)
                    ).group_by(ThemeSnapshotRow.event_id)
                )
                if ts is not None
            }
            return sorted(e for e, ts in changed.items() if e not in covered or covered[e] < ts)

    # theme steering ------------------------------------------------------------------------

    async def theme_edits(self, event_id: str) -> list[Edit]:
        """The facilitators' theme edits of an event, oldest first."""
        async with self._sessions() as s:
            rows = await s.scalars(
                select(ThemeEditRow)
                .where(ThemeEditRow.event_id == event_id)
                .order_by(ThemeEditRow.id)
            )
            return [edit_from_row(r.kind, r.theme_id, r.other_id, r.label, r.detail) for r in rows]

    async def add_theme_edit(self, event_id: str, edit: Edit, author_id: str | None) -> int:
        async with self._write() as s:
            row = ThemeEditRow(
                event_id=event_id,
                kind=edit.kind,
                theme_id=edit.theme_id,
                other_id=edit.other_id,
                label=edit.label,
                detail=edit_detail(edit),
                author_id=author_id,
                created_at=_now(),
            )
            s.add(row)
            await s.flush()
            return int(row.id)

    async def latest_themes(self, event_id: str) -> dict[str, Any] | None:
        raw = await self.latest_themes_text(event_id)
        return dict(json.loads(raw)) if raw is not None else None

    async def latest_themes_text(self, event_id: str) -> str | None:
        """The latest snapshot as stored: JSON text, sent on to facilitators undecoded."""

        def read(c: Connection) -> str | None:
            raw = c.scalar(
                select(cast(ThemeSnapshotRow.payload, Text))
                .where(ThemeSnapshotRow.event_id == event_id)
                .order_by(ThemeSnapshotRow.version.desc())
                .limit(1)
            )
            return str(raw) if raw is not None else None

        return await self._bulk_read(read)

    async def themes_version(self, event_id: str) -> int | None:
        async with self.engine.connect() as c:
            version = await c.scalar(
                select(func.max(ThemeSnapshotRow.version)).where(
                    ThemeSnapshotRow.event_id == event_id
                )
            )
        return int(version) if version is not None else None


# row → value helpers -----------------------------------------------------------------------


def _json_text(c: Connection, raw: str) -> ColumnElement[Any]:
    """JSON already encoded, for a JSON column: PostgreSQL takes text only through a cast,
    while on SQLite a cast to JSON would mean a cast to a number."""
    value = type_coerce(raw, Text)
    return cast(value, JSON) if c.dialect.name == "postgresql" else value


def _event(row: EventRow) -> Event:
    return Event(row.id, row.title, row.join_code)


def _room(row: RoomRow, members: int) -> Room:
    return Room(row.id, row.event_id, row.name, row.capacity, members)


def _participant(row: ParticipantRow) -> Participant:
    role: Role = row.role  # type: ignore[assignment]  # written only from Role values
    return Participant(row.id, row.event_id, row.pseudonym, role, row.room_id)


async def _members(s: AsyncSession, room_id: str) -> int:
    count = await s.scalar(
        select(func.count())
        .select_from(ParticipantRow)
        .where(ParticipantRow.room_id == room_id, ParticipantRow.role.in_(SEATED_ROLES))
    )
    return int(count or 0)


async def _rooms(s: AsyncSession, event_id: str) -> list[Room]:
    result = await s.execute(
        select(ParticipantRow.room_id, func.count())
        .where(ParticipantRow.event_id == event_id, ParticipantRow.role.in_(SEATED_ROLES))
        .group_by(ParticipantRow.room_id)
    )
    counts = {room_id: int(n) for room_id, n in result}
    rows = await s.scalars(
        select(RoomRow).where(RoomRow.event_id == event_id).order_by(RoomRow.position)
    )
    return [_room(r, counts.get(r.id, 0)) for r in rows]


async def _bump(s: AsyncSession, room_id: str) -> tuple[int, str]:
    row = (
        await s.execute(
            update(RoomRow)
            .where(RoomRow.id == room_id)
            .values(seq=RoomRow.seq + 1)
            .returning(RoomRow.seq, RoomRow.epoch)
        )
    ).one()
    return int(row[0]), str(row[1])


async def _head(s: AsyncSession, room_id: str) -> tuple[int, str]:
    row = (await s.execute(select(RoomRow.seq, RoomRow.epoch).where(RoomRow.id == room_id))).one()
    return int(row[0]), str(row[1])


async def _likes(s: AsyncSession, note_id: str) -> tuple[str, ...]:
    rows = await s.scalars(
        select(LikeRow.participant_id)
        .where(LikeRow.note_id == note_id)
        .order_by(LikeRow.created_at, LikeRow.participant_id)
    )
    return tuple(rows)


def _note_query() -> Any:
    return select(NoteRow, ParticipantRow.pseudonym, ParticipantRow.role).join(
        ParticipantRow, ParticipantRow.id == NoteRow.author_id
    )


def _to_note(row: NoteRow, pseudonym: str, role: str, likes: tuple[str, ...]) -> Note:
    return Note(
        row.id,
        row.room_id,
        row.author_id,
        pseudonym,
        role,
        row.text,
        _utc(row.created_at),
        _utc(row.updated_at),
        likes,
        row.step_id,
    )


async def _note(s: AsyncSession, note_id: str, *, include_deleted: bool) -> Note | None:
    result = (await s.execute(_note_query().where(NoteRow.id == note_id))).first()
    if result is None:
        return None
    row, pseudonym, role = result
    if row.deleted_at is not None and not include_deleted:
        return None
    return _to_note(row, pseudonym, role, await _likes(s, note_id))


async def _room_notes(s: AsyncSession, room_id: str) -> list[Note]:
    rows = (
        await s.execute(
            _note_query()
            .where(NoteRow.room_id == room_id, NoteRow.deleted_at.is_(None))
            .order_by(NoteRow.seq)
        )
    ).all()
    likes: dict[str, list[str]] = {}
    if rows:
        like_rows = await s.execute(
            select(LikeRow.note_id, LikeRow.participant_id)
            .join(NoteRow, NoteRow.id == LikeRow.note_id)
            .where(NoteRow.room_id == room_id)
            .order_by(LikeRow.created_at, LikeRow.participant_id)
        )
        for note_id, pid in like_rows:
            likes.setdefault(note_id, []).append(pid)
    return [_to_note(r, p, role, tuple(likes.get(r.id, ()))) for r, p, role in rows]
