"""Likes, and the running step's vote budget ("three dots each").

A like given while a step runs (or is paused) records that step. While a step with `votes`
runs, the people seated at tables may hold that many likes given in it; a like taken back
is no longer counted, so its vote returns. On PostgreSQL two tabs of one person liking at
once take turns on the person's row between the count and the insert; on SQLite every
writer already takes its turn.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..agenda import LIVE, Agenda
from ..protocol import ErrorCode, ProtocolError
from ..rooms import Participant, Room, bound_by_votes, check_vote_left, votes_left
from .models import AgendaRow, AgendaStepRow, LikeRow, NoteRow, ParticipantRow, RoomRow
from .repo import Committed, Store
from .rows import bump_seq, likes_of, load_note, room_head, utc_now


@dataclass(frozen=True, slots=True)
class Liked:
    done: Committed  # its frame is None when the like was already there, or already gone
    votes_left: int | None  # the sender's, in the running step; None: nothing limits them


@dataclass(frozen=True, slots=True)
class _Budget:
    step_id: str | None  # the running or paused step
    votes: int  # 0: unlimited


async def _budget(s: AsyncSession, event_id: str) -> _Budget:
    row = (
        await s.execute(
            select(AgendaRow.step_id, AgendaRow.status, AgendaStepRow.votes)
            .outerjoin(AgendaStepRow, AgendaStepRow.id == AgendaRow.step_id)
            .where(AgendaRow.event_id == event_id)
        )
    ).first()
    if row is None or row.step_id is None or row.status not in LIVE:
        return _Budget(None, 0)
    return _Budget(row.step_id, int(row.votes or 0))


async def _used(s: AsyncSession, participant_id: str, step_id: str) -> int:
    # A like on a note deleted since cannot be taken back, so it holds no vote.
    count = await s.scalar(
        select(func.count())
        .select_from(LikeRow)
        .join(NoteRow, NoteRow.id == LikeRow.note_id)
        .where(
            LikeRow.participant_id == participant_id,
            LikeRow.step_id == step_id,
            NoteRow.deleted_at.is_(None),
        )
    )
    return int(count or 0)


def _binding(actor: Participant, budget: _Budget) -> str | None:
    """The step whose votes limit `actor`'s likes, if any."""
    return budget.step_id if bound_by_votes(actor, budget.votes) else None


async def _left(s: AsyncSession, actor: Participant, budget: _Budget) -> int | None:
    step_id = _binding(actor, budget)
    if step_id is None:
        return None
    return votes_left(actor, budget.votes, await _used(s, actor.id, step_id))


async def votes_left_now(store: Store, actor: Participant, agenda: Agenda) -> int | None:
    """The likes `actor` may still give in `agenda`'s running step (the caller has it loaded
    already); None: nothing limits them."""
    step = agenda.current if agenda.clock.live else None
    budget = _Budget(step.id, step.votes) if step is not None else _Budget(None, 0)
    if _binding(actor, budget) is None:
        return None  # no count to read
    async with store.session() as s:
        return await _left(s, actor, budget)


async def set_like(
    store: Store, room: Room, note_id: str, actor: Participant, liked: bool
) -> Liked:
    async with store.write() as s:
        note = await load_note(s, note_id, include_deleted=False)
        if note is None or note.room_id != room.id:
            raise ProtocolError(ErrorCode.NOT_FOUND, "no such note in this room")
        budget = await _budget(s, room.event_id)
        likes = note.likes
        counted = _binding(actor, budget)
        if liked:
            # Two tabs of one person liking one note at once would both find it unliked and
            # both insert it (the second fails on the primary key): the note's room row,
            # which the like's sequence number locks anyway, makes them take turns.
            # The room first, then the person: moves, joins and removals lock an event's
            # rooms before they change a person, so this order cannot deadlock with them.
            # NO KEY UPDATE: posts and likes only check the person's row exists, and must
            # not wait for this.
            await s.execute(
                select(RoomRow.id).where(RoomRow.id == room.id).with_for_update(key_share=True)
            )
            if counted is not None:
                await s.execute(
                    select(ParticipantRow.id)
                    .where(ParticipantRow.id == actor.id)
                    .with_for_update(key_share=True)
                )
            likes = await likes_of(s, note_id)  # another tab may have liked it meanwhile
        if (actor.id in likes) == liked:
            seq, epoch = await room_head(s, room.id)
            return Liked(Committed(seq, epoch, None, note), await _left(s, actor, budget))
        left: int | None = None
        if liked:
            if counted is not None:
                used = await _used(s, actor.id, counted)
                check_vote_left(actor, budget.votes, used)
                left = votes_left(actor, budget.votes, used + 1)  # with this one
            s.add(
                LikeRow(
                    note_id=note_id,
                    participant_id=actor.id,
                    created_at=utc_now(),
                    step_id=budget.step_id,
                )
            )
        else:
            await s.execute(
                delete(LikeRow).where(
                    LikeRow.note_id == note_id, LikeRow.participant_id == actor.id
                )
            )
            # Counted again: the like taken back may have been given in another step.
            left = await _left(s, actor, budget)
        await s.flush()
        likes = await likes_of(s, note_id)
        seq, epoch = await bump_seq(s, room.id)
        frame = await store.record_diff(
            s, room.id, seq, epoch, "note.likes", {"id": note_id, "likes": list(likes)}
        )
        return Liked(Committed(seq, epoch, frame, None), left)
