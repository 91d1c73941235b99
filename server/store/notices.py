"""Broadcasts and help requests: what facilitators tell the rooms, and what a room asks back.

Both are kept, so a phone that reconnects still shows the latest broadcast and a console that
reloads still shows every table waiting for help.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from ..facilitation import Broadcast, HelpRequest
from ..rooms import Participant
from .models import BroadcastRow, HelpRequestRow, ParticipantRow
from .repo import Store
from .rows import as_utc, new_id, participant_of, utc_now


async def add_broadcast(
    store: Store, sender: Participant, room_id: str | None, text: str
) -> Broadcast:
    async with store.write() as s:
        row = BroadcastRow(
            id=new_id(),
            event_id=sender.event_id,
            room_id=room_id,
            sender_id=sender.id,
            text=text,
            created_at=utc_now(),
        )
        s.add(row)
    return Broadcast(row.id, room_id, text, sender.pseudonym, row.created_at)


async def recent_broadcasts(
    store: Store, event_id: str, room_id: str | None, *, everything: bool = False, limit: int = 5
) -> list[Broadcast]:
    """The latest broadcasts, newest first: to every room and to `room_id` (all if `everything`)."""
    async with store.session() as s:
        query = (
            select(BroadcastRow, ParticipantRow.pseudonym)
            .join(ParticipantRow, ParticipantRow.id == BroadcastRow.sender_id)
            .where(BroadcastRow.event_id == event_id)
            .order_by(BroadcastRow.created_at.desc(), BroadcastRow.id)
            .limit(limit)
        )
        if not everything:
            query = query.where(
                or_(BroadcastRow.room_id.is_(None), BroadcastRow.room_id == room_id)
            )
        rows = await s.execute(query)
        return [
            Broadcast(b.id, b.room_id, b.text, str(name), as_utc(b.created_at)) for b, name in rows
        ]


def _help(row: HelpRequestRow, by: ParticipantRow) -> HelpRequest:
    return HelpRequest(row.id, row.room_id, row.text, participant_of(by), as_utc(row.raised_at))


async def raise_help(store: Store, actor: Participant, room_id: str, text: str) -> HelpRequest:
    """Open a room's help request, or update the one still open (a room waits in one queue)."""
    async with store.write() as s:
        row = await s.scalar(
            select(HelpRequestRow).where(
                HelpRequestRow.room_id == room_id, HelpRequestRow.resolved_at.is_(None)
            )
        )
        if row is None:
            row = HelpRequestRow(
                id=new_id(),
                event_id=actor.event_id,
                room_id=room_id,
                raised_by=actor.id,
                text=text,
                raised_at=utc_now(),
            )
            s.add(row)
        else:
            row.text = text or row.text
            row.raised_by = actor.id
        by = await s.get(ParticipantRow, actor.id)
        assert by is not None
        return _help(row, by)


async def resolve_help(store: Store, room_id: str, by: Participant) -> bool:
    """Mark the room's open request handled; False when none was open."""
    async with store.write() as s:
        rows = list(
            await s.scalars(
                select(HelpRequestRow).where(
                    HelpRequestRow.room_id == room_id, HelpRequestRow.resolved_at.is_(None)
                )
            )
        )
        for row in rows:
            row.resolved_at = utc_now()
            row.resolved_by = by.id
        return bool(rows)


async def open_help(store: Store, event_id: str, room_id: str | None = None) -> list[HelpRequest]:
    async with store.session() as s:
        query = (
            select(HelpRequestRow, ParticipantRow)
            .join(ParticipantRow, ParticipantRow.id == HelpRequestRow.raised_by)
            .where(HelpRequestRow.event_id == event_id, HelpRequestRow.resolved_at.is_(None))
            .order_by(HelpRequestRow.raised_at)
        )
        if room_id is not None:
            query = query.where(HelpRequestRow.room_id == room_id)
        return [_help(h, p) for h, p in await s.execute(query)]
