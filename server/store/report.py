"""The reads behind an event's downloadable report: every live note with its table, the
agenda step it was written in and its likes, in one query; each question's answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Connection, func, select

from ..agenda import Agenda
from ..report import ReportAnswer, ReportNote, answers_csv, notes_csv, themes_markdown
from ..report_words import Words
from ..rooms import Event
from .agenda import load_agenda
from .answers import read_tally
from .models import AgendaStepRow, AnswerRow, LikeRow, NoteRow, RoomRow
from .rows import as_utc, utc_now

ReportKind = Literal["notes.csv", "themes.md", "answers.csv"]

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


async def report_answers(store: Store, agenda: Agenda) -> list[ReportAnswer]:
    """Every answer to the agenda's questions, in agenda order, then as they were given."""
    questions = {s.id: (i, s) for i, s in enumerate(agenda.steps) if s.choices}
    if not questions:
        return []

    def read(c: Connection) -> list[tuple[str, str | None, int, Any]]:
        rows = c.execute(
            select(AnswerRow.step_id, RoomRow.name, AnswerRow.choice, AnswerRow.answered_at)
            .outerjoin(RoomRow, RoomRow.id == AnswerRow.room_id)
            .where(AnswerRow.step_id.in_(list(questions)))
            .order_by(AnswerRow.answered_at, AnswerRow.participant_id)
        )
        return [(step, table, choice, at) for step, table, choice, at in rows]

    rows = await store.bulk_read(read)
    rows.sort(key=lambda r: questions[r[0]][0])  # stable: answering order kept within a step
    return [
        ReportAnswer(step.title, step.prompt, table or "", choice, step.choices, as_utc(at))
        for step_id, table, choice, at in rows
        for step in (questions[step_id][1],)
    ]


async def render_report(
    store: Store,
    event: Event,
    kind: ReportKind,
    themes: Mapping[str, Any] | None,
    open_counts: bool = True,
    language: str | None = None,
) -> str:
    """One report file of the event, from its stored notes and the given themes; an open
    question's counts only with `open_counts` (for facilitators). The Markdown report is in
    `language`, by default the event's."""
    if kind == "answers.csv":
        return answers_csv(await report_answers(store, await load_agenda(store, event.id)))
    notes = await report_notes(store, event.id)
    if kind == "notes.csv":
        return notes_csv(notes, themes)
    rooms = {room.id: room.name for room in await store.rooms(event.id)}
    agenda = await load_agenda(store, event.id)
    questions = [(s, await read_tally(store, agenda, s)) for s in agenda.steps if s.choices]
    words = Words(language or event.language)
    return themes_markdown(
        event.title, notes, themes, rooms, utc_now(), questions, open_counts, words
    )
