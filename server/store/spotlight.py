"""The plenary screen's spotlight: what it shows, and the notes it is made of, read fresh."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.selectable import ScalarSelect

from ..spotlight import Spotlight, SpotNote
from .models import LikeRow, NoteRow, RoomRow, SpotlightRow
from .repo import Store
from .rows import as_utc, utc_now


@dataclass(frozen=True, slots=True)
class Shown:
    version: int  # 0: nothing was ever shown
    spotlight: Spotlight | None

    def to_wire(self) -> dict[str, object]:
        wire = self.spotlight.to_wire() if self.spotlight is not None else None
        return {"spotlight": wire, "version": self.version}


async def shown(store: Store, event_id: str) -> Shown:
    async with store.session() as s:
        row = await s.get(SpotlightRow, event_id)
        if row is None:
            return Shown(0, None)
        return Shown(row.version, Spotlight.from_wire(row.payload) if row.payload else None)


async def show(
    store: Store, event_id: str, spotlight: Spotlight | None, *, if_version: int | None = None
) -> Shown | None:
    """Put `spotlight` on the screen (None clears it), under the next version; None when
    `if_version` is given and another change came first."""
    for attempt in (1, 2):
        try:
            return await _show(store, event_id, spotlight, if_version)
        except IntegrityError:
            # Two first changes of an event at once on PostgreSQL: both inserted its row.
            # The second attempt finds the row; a second failure is a real one (event gone).
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def _show(
    store: Store, event_id: str, spotlight: Spotlight | None, if_version: int | None
) -> Shown | None:
    payload = spotlight.to_wire() if spotlight is not None else None
    async with store.write() as s:
        row = await s.get(SpotlightRow, event_id, with_for_update=True)
        if if_version is not None and (row.version if row is not None else 0) != if_version:
            return None
        if row is None:
            row = SpotlightRow(event_id=event_id, version=1, payload=payload, updated_at=utc_now())
            s.add(row)
        else:
            row.version += 1
            row.payload = payload
            row.updated_at = utc_now()
        version = row.version
    return Shown(version, spotlight)


def _likes() -> ScalarSelect[int]:
    """A note's likes, as a correlated subquery of a select of notes."""
    return (
        select(func.count())
        .select_from(LikeRow)
        .where(LikeRow.note_id == NoteRow.id)
        .scalar_subquery()
    )


async def spot_notes(store: Store, event_id: str, note_ids: Collection[str]) -> dict[str, SpotNote]:
    """The event's live notes among `note_ids`, with their room's name and likes."""
    if not note_ids:
        return {}
    async with store.session() as s:
        rows = await s.execute(
            select(NoteRow.id, NoteRow.text, NoteRow.room_id, RoomRow.name, _likes())
            .join(RoomRow, RoomRow.id == NoteRow.room_id)
            .where(
                NoteRow.id.in_(list(note_ids)),
                NoteRow.event_id == event_id,
                NoteRow.deleted_at.is_(None),
            )
        )
        return {
            str(i): SpotNote(str(i), text, str(room_id), name, int(likes))
            for i, text, room_id, name, likes in rows
        }


async def room_spot_notes(
    store: Store, room_id: str, step_id: str | None
) -> list[tuple[SpotNote, datetime]]:
    """A room's live notes written in `step_id` (every one when None), with when each was."""
    async with store.session() as s:
        query = (
            select(
                NoteRow.id,
                NoteRow.text,
                NoteRow.room_id,
                RoomRow.name,
                _likes(),
                NoteRow.created_at,
            )
            .join(RoomRow, RoomRow.id == NoteRow.room_id)
            .where(NoteRow.room_id == room_id, NoteRow.deleted_at.is_(None))
        )
        if step_id is not None:
            query = query.where(NoteRow.step_id == step_id)
        return [
            (SpotNote(str(i), text, str(rid), name, int(likes)), as_utc(at))
            for i, text, rid, name, likes, at in await s.execute(query)
        ]
