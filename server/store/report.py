"""The reads behind an event's downloadable report: every live note with its table, the
agenda step it was written in and its likes, in one query."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection, func, select

from ..report import ReportNote
from .models import AgendaStepRow, LikeRow, NoteRow, RoomRow
from .rows import as_utc

if TYPE_CHECKING:
    from .repo import Store


async def report_notes(store: Store, event_id: str) -> list[ReportNote]:
    """The event's live notes, oldest first."""
    likes = select(LikeRow.note_id, func.count().label("n")).group_by(LikeRow.note_id).subquery()

    def read(c: Connection) -> list[ReportNote]:
        rows = c.execute(
            select(
                NoteRow.id,
                NoteRow.created_at,
                RoomRow.name,
                AgendaStepRow.title,
                NoteRow.text,
                func.coalesce(likes.c.n, 0),
            )
            .join(RoomRow, RoomRow.id == NoteRow.room_id)
            .outerjoin(AgendaStepRow, AgendaStepRow.id == NoteRow.step_id)
            .outerjoin(likes, likes.c.note_id == NoteRow.id)
            .where(NoteRow.event_id == event_id, NoteRow.deleted_at.is_(None))
            .order_by(NoteRow.created_at, NoteRow.id)
        )
        return [
            ReportNote(id_, as_utc(at), table, step, text, int(n))
            for id_, at, table, step, text, n in rows
        ]

    return await store.bulk_read(read)
