"""The reads behind an event's downloadable report: every live note with its table, the
agenda step it was written in and its likes, in one query; each question's answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Connection, func, select

from ..report import ReportNote, notes_csv, themes_markdown
from ..rooms import Event
from .agenda import load_agenda
from .answers import read_tally
from .models import AgendaStepRow, LikeRow, NoteRow, RoomRow
from .rows import as_utc, utc_now

ReportKind = Literal["notes.csv", "themes.md"]

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


async def render_report(
    store: Store, event: Event, kind: ReportKind, themes: Mapping[str, Any] | None
) -> str:
    """One report file of the event, from its stored notes and the given themes."""
    notes = await report_notes(store, event.id)
    if kind == "notes.csv":
        return notes_csv(notes, themes)
    rooms = {room.id: room.name for room in await store.rooms(event.id)}
    agenda = await load_agenda(store, event.id)
    questions = [(s, await read_tally(store, agenda, s)) for s in agenda.steps if s.choices]
    return themes_markdown(event.title, notes, themes, rooms, utc_now(), questions)
