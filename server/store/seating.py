"""Seats: moving people, seating strategies, the history of who sat together, open-space topics.

Every seat change locks the event's rooms, as joining does, so capacity holds however many
facilitators, participants and joins act at once. The seats taken during each step are kept,
so a world café reshuffle knows who already met.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..assignment import AssignmentError, Pair, Seat, Strategy, Table, assign, pairs_met
from ..facilitation import Move, MoveReason, Topic, TopicStatus
from ..protocol import ErrorCode, ProtocolError, Role
from ..rooms import SEATED_ROLES, Participant, Room
from .models import AgendaRow, ParticipantRow, RoomRow, SeatingRow, TopicRow
from .repo import Store
from .rows import (
    as_utc,
    count_members,
    new_epoch,
    new_id,
    participant_of,
    room_of,
    rooms_of,
    utc_now,
)


async def _lock_rooms(s: AsyncSession, event_id: str) -> None:
    await s.execute(select(RoomRow.id).where(RoomRow.event_id == event_id).with_for_update())


async def _current_step(s: AsyncSession, event_id: str) -> str | None:
    return await s.scalar(select(AgendaRow.step_id).where(AgendaRow.event_id == event_id))


async def _record_seat(
    s: AsyncSession, event_id: str, step_id: str | None, participant_id: str, room_id: str
) -> None:
    if step_id is None:
        return
    known = await s.scalar(
        select(SeatingRow.id).where(
            SeatingRow.step_id == step_id,
            SeatingRow.participant_id == participant_id,
            SeatingRow.room_id == room_id,
        )
    )
    if known is None:
        s.add(
            SeatingRow(
                event_id=event_id,
                step_id=step_id,
                participant_id=participant_id,
                room_id=room_id,
                created_at=utc_now(),
            )
        )


async def _seated(s: AsyncSession, event_id: str) -> list[ParticipantRow]:
    rows = await s.scalars(
        select(ParticipantRow)
        .where(
            ParticipantRow.event_id == event_id,
            ParticipantRow.role.in_(SEATED_ROLES),
            ParticipantRow.removed_at.is_(None),
        )
        .order_by(ParticipantRow.created_at, ParticipantRow.id)
    )
    return list(rows)


async def seated_people(store: Store, event_id: str) -> list[Participant]:
    async with store.session() as s:
        return [participant_of(r) for r in await _seated(s, event_id)]


async def met_pairs(s: AsyncSession, event_id: str) -> dict[Pair, int]:
    rows = await s.execute(
        select(SeatingRow.step_id, SeatingRow.room_id, SeatingRow.participant_id).where(
            SeatingRow.event_id == event_id
        )
    )
    rounds: dict[str, dict[str, str]] = {}
    for step_id, room_id, participant_id in rows:
        # A person moved during a step met both tables: one round per (step, table) pair.
        rounds.setdefault(f"{step_id}/{room_id}", {})[participant_id] = room_id
    return dict(pairs_met(rounds.values()))


async def move(
    store: Store, event_id: str, participant_id: str, room_id: str, reason: MoveReason
) -> Move | None:
    """Seat someone at `room_id`; None when they already sit there."""
    async with store.write() as s:
        await _lock_rooms(s, event_id)
        row = await s.get(ParticipantRow, participant_id)
        room = await s.get(RoomRow, room_id)
        if row is None or row.event_id != event_id:
            raise ProtocolError(ErrorCode.NOT_FOUND, "no such participant in this event")
        if row.removed_at is not None:
            # Checked again here: the removal may have committed since the handler's read.
            raise ProtocolError(ErrorCode.NOT_FOUND, f"{row.pseudonym} was removed from this event")
        if room is None or room.event_id != event_id:
            raise ProtocolError(ErrorCode.NOT_FOUND, "no such room")
        if row.room_id == room_id:
            return None
        if await count_members(s, room_id) >= room.capacity:
            raise ProtocolError(ErrorCode.ROOM_FULL, f"{room.name} is full")
        before = row.room_id
        row.room_id = room_id
        await _record_seat(s, event_id, await _current_step(s, event_id), row.id, room_id)
        return Move(participant_of(row), before, reason)


async def seat_for_step(
    store: Store,
    event_id: str,
    step_id: str | None,
    strategy: Strategy | None,
    rng: random.Random,
    groups: Sequence[Sequence[str]] = (),
) -> list[Move]:
    """Apply a seating strategy (None: keep the seats), then record the seats for `step_id`."""
    async with store.write() as s:
        await _lock_rooms(s, event_id)
        rows = await _seated(s, event_id)
        moves: list[Move] = []
        if strategy is not None:
            rooms = await rooms_of(s, event_id)
            seats = [Seat(r.id, r.room_id, r.role == "table_host") for r in rows]
            tables = [Table(r.id, r.capacity) for r in rooms]
            try:
                placed = assign(
                    strategy, seats, tables, rng, groups=groups, met=await met_pairs(s, event_id)
                )
            except AssignmentError as exc:
                raise ProtocolError(ErrorCode.ROOM_FULL, str(exc)) from None
            for r in rows:
                if placed[r.id] != r.room_id:
                    before = r.room_id
                    r.room_id = placed[r.id]
                    moves.append(Move(participant_of(r), before, "assigned"))
        for r in rows:
            if r.room_id is not None:
                await _record_seat(s, event_id, step_id, r.id, r.room_id)
        return moves


async def set_role(store: Store, event_id: str, participant_id: str, role: Role) -> Participant:
    async with store.write() as s:
        row = await s.get(ParticipantRow, participant_id)
        if (
            row is None
            or row.event_id != event_id
            or row.role not in SEATED_ROLES
            or row.removed_at is not None
        ):
            raise ProtocolError(ErrorCode.NOT_FOUND, "no such participant at a table")
        row.role = role
        return participant_of(row)


# open-space topics -----------------------------------------------------------------------


def _topic(row: TopicRow, by: Participant) -> Topic:
    status: TopicStatus = row.status  # type: ignore[assignment]  # written only from TopicStatus
    return Topic(row.id, row.title, by, status, row.room_id, as_utc(row.created_at))


async def propose_topic(store: Store, actor: Participant, title: str) -> Topic:
    async with store.write() as s:
        row = TopicRow(
            id=new_id(),
            event_id=actor.event_id,
            title=title,
            proposed_by=actor.id,
            status="proposed",
            room_id=None,
            created_at=utc_now(),
        )
        s.add(row)
    return _topic(row, actor)


async def topics(store: Store, event_id: str) -> list[Topic]:
    async with store.session() as s:
        rows = await s.execute(
            select(TopicRow, ParticipantRow)
            .join(ParticipantRow, ParticipantRow.id == TopicRow.proposed_by)
            .where(TopicRow.event_id == event_id)
            .order_by(TopicRow.created_at, TopicRow.id)
        )
        return [_topic(t, participant_of(p)) for t, p in rows]


async def decide_topic(
    store: Store, event_id: str, topic_id: str, accept: bool, capacity: int
) -> tuple[Topic, Room | None, Move | None]:
    """Decline a topic, or accept it: it becomes a room, and its proposer moves there."""
    async with store.write() as s:
        await _lock_rooms(s, event_id)
        row = await s.get(TopicRow, topic_id)
        if row is None or row.event_id != event_id:
            raise ProtocolError(ErrorCode.NOT_FOUND, "no such topic")
        if row.status != "proposed":
            raise ProtocolError(ErrorCode.CONFLICT, f"this topic was already {row.status}")
        proposer = await s.get(ParticipantRow, row.proposed_by)
        assert proposer is not None  # a foreign key with ON DELETE CASCADE
        if not accept:
            row.status = "declined"
            return _topic(row, participant_of(proposer)), None, None
        position = await s.scalar(
            select(func.count()).select_from(RoomRow).where(RoomRow.event_id == event_id)
        )
        room_row = RoomRow(
            id=new_id(),
            event_id=event_id,
            name=row.title[:60],
            capacity=capacity,
            position=int(position or 0),
            seq=0,
            epoch=new_epoch(),
            created_at=utc_now(),
        )
        s.add(room_row)
        await s.flush()
        row.status = "accepted"
        row.room_id = room_row.id
        moved: Move | None = None
        # The convener goes to their own topic, as in any open space (unless they were
        # removed from the event since: the topic stays, its convener does not come back).
        if proposer.role == "participant" and proposer.removed_at is None:
            before = proposer.room_id
            proposer.room_id = room_row.id
            await _record_seat(
                s, event_id, await _current_step(s, event_id), proposer.id, room_row.id
            )
            moved = Move(participant_of(proposer), before, "topic")
        room = room_of(room_row, 1 if moved else 0)
        return _topic(row, participant_of(proposer)), room, moved
