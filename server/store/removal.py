"""Taking someone out of an event: their seat, their standing, and on request their notes.

One transaction: whoever reads the person after it commits finds them removed, without a
seat and without answers to any question, and each deleted note's `note.deleted` diff is
stored under its room's next seq, exactly as `note.delete` stores it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select

from ..facilitation import check_removable
from ..rooms import Participant
from .models import AnswerRow, NoteRow, ParticipantRow, RoomRow
from .repo import Store
from .rows import participant_of, utc_now


@dataclass(frozen=True, slots=True)
class RoomDiff:
    """A committed diff of one room, to publish as it was stored."""

    room_id: str
    seq: int
    epoch: str
    frame: str


@dataclass(frozen=True, slots=True)
class Removal:
    participant: Participant  # as stored now: removed, without a seat
    from_room: str | None  # the seat they lost
    deleted: list[RoomDiff]  # one `note.deleted` per note, in each room's order
    note_ids: list[str]  # the notes deleted, in the same order


async def remove_participant(
    store: Store, actor: Participant, participant_id: str, delete_notes: bool
) -> Removal:
    async with store.write() as s:
        # The lock moves and joins take: a move read before this commits cannot seat them again.
        await s.execute(
            select(RoomRow.id).where(RoomRow.event_id == actor.event_id).with_for_update()
        )
        row = await s.get(ParticipantRow, participant_id)
        # Checked again on the row read under the lock: two facilitators removing the same
        # person at once get one removal and one `conflict`.
        check_removable(actor, participant_of(row) if row is not None else None)
        assert row is not None
        from_room = row.room_id
        row.removed_at = utc_now()
        row.room_id = None
        # Someone taken out for disrupting must not weigh on any question's result.
        await s.execute(delete(AnswerRow).where(AnswerRow.participant_id == row.id))
        deleted: list[RoomDiff] = []
        note_ids: list[str] = []
        if delete_notes:
            notes = await s.scalars(
                select(NoteRow)
                .where(
                    NoteRow.event_id == actor.event_id,
                    NoteRow.author_id == row.id,
                    NoteRow.deleted_at.is_(None),
                )
                .order_by(NoteRow.room_id, NoteRow.seq)
            )
            for note in list(notes):
                done = await store.tombstone(s, note)
                assert done.frame is not None
                deleted.append(RoomDiff(note.room_id, done.seq, done.epoch, done.frame))
                note_ids.append(note.id)
        return Removal(participant_of(row), from_room, deleted, note_ids)
