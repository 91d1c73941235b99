"""Erasing an event: every row of it, in one transaction, and on SQLite no copy left in the
file either.

Every table hangs off `events` by foreign keys with ON DELETE CASCADE: rooms, participants,
notes, likes, the rooms' stored frames, theme snapshots and edits, the agenda, its steps and
their answers, seatings, help calls, broadcasts and topics. Deleting the event's row deletes
them all; the few columns without a foreign key (a note's or a like's step, an edit's author)
sit in rows that cascade. `tests/integration/test_erasure.py` checks every table of the
metadata, so a table added without its cascade fails there. Every foreign key column is
indexed (migration 0008): each row deleted makes the database look up the rows pointing at it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, delete, func, select

from .models import AgendaStepRow, AnswerRow, EventRow, NoteRow, ParticipantRow, RoomRow

if TYPE_CHECKING:
    from .repo import Store

log = logging.getLogger("tablee.store")


@dataclass(frozen=True, slots=True)
class EventCounts:
    """What an event holds, as erasing it reports it."""

    notes: int  # every note stored, those deleted during the event too (their text was kept)
    participants: int  # everyone who joined, facilitators, screens and removed people included
    rooms: int
    answers: int

    def to_wire(self) -> dict[str, int]:
        return asdict(self)


def _counts(c: Connection, event_id: str) -> EventCounts:
    def count(model: type[NoteRow] | type[ParticipantRow] | type[RoomRow]) -> int:
        n = c.scalar(select(func.count()).select_from(model).where(model.event_id == event_id))
        return int(n or 0)

    answers = c.scalar(
        select(func.count())
        .select_from(AnswerRow)
        .join(AgendaStepRow, AgendaStepRow.id == AnswerRow.step_id)
        .where(AgendaStepRow.event_id == event_id)
    )
    return EventCounts(count(NoteRow), count(ParticipantRow), count(RoomRow), int(answers or 0))


async def count_event(store: Store, event_id: str) -> EventCounts:
    """What erasing the event would delete, read now."""
    return await store.bulk_read(lambda c: _counts(c, event_id))


async def erase_event(store: Store, event_id: str) -> EventCounts | None:
    """Delete the event and everything in it; what it held, or None if it is already gone."""
    counts = await store.write_sync(lambda c: _erase(c, event_id))
    if counts is not None and store.engine.dialect.name == "sqlite":
        await store.write_sync(_truncate_log)
    return counts


def _erase(c: Connection, event_id: str) -> EventCounts | None:
    sqlite = c.dialect.name == "sqlite"
    if sqlite:
        # Without enforcement SQLite would delete the event's row alone and leave every note
        # in place: refuse rather than report an erasure that did not happen. The engines
        # turn it on for each connection (`engine._sqlite_pragmas`).
        if c.exec_driver_sql("PRAGMA foreign_keys").scalar() != 1:
            raise RuntimeError("SQLite foreign keys are off on this connection: nothing erased")
        # The write lock from the start, so the counts are of the rows deleted; pysqlite
        # would otherwise begin only at the first write.
        c.exec_driver_sql("BEGIN IMMEDIATE")
        found = c.scalar(select(EventRow.id).where(EventRow.id == event_id))
    else:
        # Locked: a note or a seat being written for the event waits, then fails on its
        # foreign key, instead of slipping in between the counts and the delete.
        found = c.scalar(select(EventRow.id).where(EventRow.id == event_id).with_for_update())
    if found is None:
        return None
    counts = _counts(c, event_id)
    if not sqlite:
        c.execute(delete(EventRow).where(EventRow.id == event_id))
        return counts
    # A deleted row's bytes otherwise stay in the file: in the b-tree pages it shared with
    # other rows, and whole in the pages it frees. `secure_delete=ON` overwrites both with
    # zeros (`FAST` leaves the freed pages as they were). Erasing 10,000 notes took
    # 0.19-0.35 s with it and 0.23-0.27 s without, the checkpoint included: no difference
    # to tell. Only for this delete: pruning old theme snapshots need not zero megabytes.
    before = c.exec_driver_sql("PRAGMA secure_delete").scalar()
    c.exec_driver_sql("PRAGMA secure_delete=ON")
    try:
        c.execute(delete(EventRow).where(EventRow.id == event_id))
    finally:
        c.exec_driver_sql(f"PRAGMA secure_delete={int(before or 0)}")
    return counts


def _truncate_log(c: Connection) -> None:
    """Copy the zeroed pages into the database file and empty the write-ahead log, whose
    older frames still hold the rows as they were written.

    Run as its own call, after the erasure committed: a checkpoint cannot run inside a write
    transaction, and pysqlite begins none before a write. It waits (up to the busy timeout)
    for readers of older pages to finish; if one does not, the pages are copied by the next
    checkpoint and the log's old frames overwritten as it is reused.
    """
    busy, _, _ = c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    if busy:
        log.warning("the write-ahead log could not be emptied after an erasure: readers active")
