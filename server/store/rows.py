"""Row ↔ value helpers shared by the store's modules: clocks, ids, and the reads that turn
rows into the core's values."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..protocol import Role
from ..rooms import SEATED_ROLES, Event, Note, Participant, Room
from .models import EventRow, LikeRow, NoteRow, ParticipantRow, RoomRow


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(ts: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored is UTC.
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


def new_id() -> str:
    return uuid.uuid4().hex


def new_epoch() -> str:
    return "e-" + uuid.uuid4().hex[:12]


def event_of(row: EventRow) -> Event:
    return Event(row.id, row.title, row.join_code, row.language)


def room_of(row: RoomRow, members: int) -> Room:
    return Room(row.id, row.event_id, row.name, row.capacity, members)


def participant_of(row: ParticipantRow) -> Participant:
    role: Role = row.role  # type: ignore[assignment]  # written only from Role values
    return Participant(
        row.id, row.event_id, row.pseudonym, role, row.room_id, row.removed_at is not None
    )


async def count_members(s: AsyncSession, room_id: str) -> int:
    count = await s.scalar(
        select(func.count())
        .select_from(ParticipantRow)
        .where(ParticipantRow.room_id == room_id, ParticipantRow.role.in_(SEATED_ROLES))
    )
    return int(count or 0)


async def rooms_of(s: AsyncSession, event_id: str) -> list[Room]:
    result = await s.execute(
        select(ParticipantRow.room_id, func.count())
        .where(ParticipantRow.event_id == event_id, ParticipantRow.role.in_(SEATED_ROLES))
        .group_by(ParticipantRow.room_id)
    )
    counts = {room_id: int(n) for room_id, n in result}
    rows = await s.scalars(
        select(RoomRow).where(RoomRow.event_id == event_id).order_by(RoomRow.position)
    )
    return [room_of(r, counts.get(r.id, 0)) for r in rows]


async def bump_seq(s: AsyncSession, room_id: str) -> tuple[int, str]:
    row = (
        await s.execute(
            update(RoomRow)
            .where(RoomRow.id == room_id)
            .values(seq=RoomRow.seq + 1)
            .returning(RoomRow.seq, RoomRow.epoch)
        )
    ).one()
    return int(row[0]), str(row[1])


async def room_head(s: AsyncSession, room_id: str) -> tuple[int, str]:
    row = (await s.execute(select(RoomRow.seq, RoomRow.epoch).where(RoomRow.id == room_id))).one()
    return int(row[0]), str(row[1])


async def likes_of(s: AsyncSession, note_id: str) -> tuple[str, ...]:
    rows = await s.scalars(
        select(LikeRow.participant_id)
        .where(LikeRow.note_id == note_id)
        .order_by(LikeRow.created_at, LikeRow.participant_id)
    )
    return tuple(rows)


def note_query() -> Any:
    return select(NoteRow, ParticipantRow.pseudonym, ParticipantRow.role).join(
        ParticipantRow, ParticipantRow.id == NoteRow.author_id
    )


def to_note(row: NoteRow, pseudonym: str, role: str, likes: tuple[str, ...]) -> Note:
    return Note(
        row.id,
        row.room_id,
        row.author_id,
        pseudonym,
        role,
        row.text,
        as_utc(row.created_at),
        as_utc(row.updated_at),
        likes,
        row.step_id,
    )


async def load_note(s: AsyncSession, note_id: str, *, include_deleted: bool) -> Note | None:
    result = (await s.execute(note_query().where(NoteRow.id == note_id))).first()
    if result is None:
        return None
    row, pseudonym, role = result
    if row.deleted_at is not None and not include_deleted:
        return None
    return to_note(row, pseudonym, role, await likes_of(s, note_id))


async def room_notes(s: AsyncSession, room_id: str) -> list[Note]:
    rows = (
        await s.execute(
            note_query()
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
    return [to_note(r, p, role, tuple(likes.get(r.id, ()))) for r, p, role in rows]
