"""Answers to question steps: one per person and step, replaced when they answer again.

On PostgreSQL an answer holds its table's row (KEY SHARE), then the person's row (NO KEY
UPDATE), then the agenda's (SHARE): moves and removals, which lock an event's rooms before
a person, wait for it or make it see their outcome; two tabs of one person take turns; and
a step cannot end between the check that its question is open and the answer's commit, so
the closing tally counts every answer accepted. On SQLite every writer already takes its turn.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..agenda import Agenda, Step
from ..answers import Answer, Tally, check_answer, check_can_answer, tally
from ..protocol import ErrorCode, ProtocolError
from ..rooms import SEATED_ROLES, Participant
from .agenda import held_agenda
from .models import AnswerRow, ParticipantRow, RoomRow
from .repo import Store
from .rows import participant_of, utc_now


async def _held_person(s: AsyncSession, participant_id: str) -> Participant:
    seat = await s.scalar(select(ParticipantRow.room_id).where(ParticipantRow.id == participant_id))
    if seat is not None:
        await s.execute(
            select(RoomRow.id).where(RoomRow.id == seat).with_for_update(read=True, key_share=True)
        )
    row = (
        await s.scalars(
            select(ParticipantRow)
            .where(ParticipantRow.id == participant_id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
    ).first()
    if row is None:
        raise ProtocolError(ErrorCode.FORBIDDEN, "you are no longer in this event")
    return participant_of(row)


async def set_answer(store: Store, actor: Participant, step_id: str, choice: int | None) -> None:
    """Record `actor`'s answer to the open question `step_id` (None withdraws it)."""
    async with store.write() as s:
        me = await _held_person(s, actor.id)  # their seat now, not when the socket opened
        check_can_answer(me)
        agenda = await held_agenda(s, me.event_id)
        check_answer(agenda, step_id, choice)
        if choice is None:
            await s.execute(
                delete(AnswerRow).where(
                    AnswerRow.step_id == step_id, AnswerRow.participant_id == me.id
                )
            )
            return
        values = {
            "step_id": step_id,
            "participant_id": me.id,
            "room_id": me.room_id,
            "choice": choice,
            "answered_at": utc_now(),
        }
        # One statement either way: two tabs answering at once replace, never duplicate.
        insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
        stmt = insert(AnswerRow).values(**values)
        await s.execute(
            stmt.on_conflict_do_update(
                index_elements=[AnswerRow.step_id, AnswerRow.participant_id],
                set_={k: stmt.excluded[k] for k in ("room_id", "choice", "answered_at")},
            )
        )


async def answer_of(store: Store, participant_id: str, step_id: str) -> int | None:
    async with store.session() as s:
        return await s.scalar(
            select(AnswerRow.choice).where(
                AnswerRow.step_id == step_id, AnswerRow.participant_id == participant_id
            )
        )


async def _eligible(s: AsyncSession, event_id: str) -> int:
    count = await s.scalar(
        select(func.count())
        .select_from(ParticipantRow)
        .where(
            ParticipantRow.event_id == event_id,
            ParticipantRow.role.in_(SEATED_ROLES),
            ParticipantRow.room_id.is_not(None),
            ParticipantRow.removed_at.is_(None),
        )
    )
    return int(count or 0)


async def read_tally(store: Store, agenda: Agenda, step: Step) -> Tally:
    """`step`'s answers counted, open or not as `agenda` says."""
    async with store.session() as s:
        rows = await s.execute(
            select(AnswerRow.room_id, AnswerRow.choice).where(AnswerRow.step_id == step.id)
        )
        answers = [Answer(room_id, choice) for room_id, choice in rows]
        rooms = await s.scalars(
            select(RoomRow.id)
            .where(RoomRow.event_id == agenda.event_id)
            .order_by(RoomRow.position, RoomRow.created_at)
        )
        order = list(rooms)
        eligible = await _eligible(s, agenda.event_id)
    return tally(step, answers, order, eligible, agenda.question_open(step.id), agenda.version)
