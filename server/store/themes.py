"""An event's themes in the database: the notes they are made from, the snapshots the
workers store, and the facilitators' edits that steer every later run."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Connection,
    Text,
    cast,
    delete,
    func,
    insert,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from nlp.steering import Edit

from .edits import edit_detail, edit_from_row
from .models import NoteRow, ThemeEditRow, ThemeSnapshotRow
from .rows import as_utc, utc_now

if TYPE_CHECKING:
    from .repo import Store

SNAPSHOTS_KEPT = 20  # older snapshots are never read back; a short tail for inspection


@dataclass(frozen=True, slots=True)
class NoteForThemes:
    id: str
    text: str
    room_id: str
    created_at: datetime | None = None
    step_id: str | None = None  # the agenda step it was written in


class ThemeRecords:
    """The theme tables, through the store's connections (`store.themes`)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def notes(self, event_id: str) -> list[NoteForThemes]:
        """The event's live notes, oldest first."""

        def read(c: Connection) -> list[NoteForThemes]:
            rows = c.execute(
                select(*_NOTE_COLUMNS)
                .where(NoteRow.event_id == event_id, NoteRow.deleted_at.is_(None))
                .order_by(NoteRow.created_at, NoteRow.id)
            )
            return [_note_for_themes(r) for r in rows]

        return await self._store.bulk_read(read)

    async def changed_notes(
        self, event_id: str, since: datetime
    ) -> tuple[list[NoteForThemes], list[str]]:
        """Notes of the event written after `since`: the live ones, and the ids of those
        deleted."""

        def read(c: Connection) -> tuple[list[NoteForThemes], list[str]]:
            rows = c.execute(
                select(*_NOTE_COLUMNS, NoteRow.deleted_at)
                .where(
                    NoteRow.event_id == event_id,
                    or_(NoteRow.updated_at > since, NoteRow.deleted_at > since),
                )
                .order_by(NoteRow.created_at, NoteRow.id)
            )
            live: list[NoteForThemes] = []
            deleted: list[str] = []
            for r in rows:
                if r[_DELETED_AT] is not None:
                    deleted.append(str(r[0]))
                else:
                    live.append(_note_for_themes(r))
            return live, deleted

        return await self._store.bulk_read(read)

    async def save(
        self, event_id: str, version: int, payload: str, notes_read_at: datetime
    ) -> bool:
        """Store a snapshot, given as its JSON text; False when another worker stored this
        version first."""

        def save(c: Connection) -> None:
            c.execute(
                insert(ThemeSnapshotRow).values(
                    event_id=event_id,
                    version=version,
                    # Encoded where it was made: stored as it is, never decoded on the way.
                    payload=_json_text(c, payload),
                    created_at=utc_now(),
                    notes_read_at=notes_read_at,
                )
            )
            c.execute(
                delete(ThemeSnapshotRow).where(
                    ThemeSnapshotRow.event_id == event_id,
                    ThemeSnapshotRow.version <= version - SNAPSHOTS_KEPT,
                )
            )

        try:
            await self._store.write_sync(save)
        except IntegrityError:
            # Either this version is taken, or the event's row is gone (its foreign key).
            if await self._store.event(event_id) is not None:
                return False
            from nlp.worker import EventGone  # the worker's contract; imported when it applies

            raise EventGone(event_id) from None
        return True

    async def latest_text(self, event_id: str) -> str | None:
        """The latest snapshot as stored: JSON text, sent on to facilitators undecoded."""

        def read(c: Connection) -> str | None:
            raw = c.scalar(
                select(cast(ThemeSnapshotRow.payload, Text))
                .where(ThemeSnapshotRow.event_id == event_id)
                .order_by(ThemeSnapshotRow.version.desc())
                .limit(1)
            )
            return str(raw) if raw is not None else None

        return await self._store.bulk_read(read)

    async def latest(self, event_id: str) -> dict[str, Any] | None:
        """The latest snapshot, decoded off the event loop: a large event's is megabytes."""
        raw = await self.latest_text(event_id)
        if raw is None:
            return None
        payload: dict[str, Any] = await asyncio.to_thread(json.loads, raw)
        return payload

    async def version(self, event_id: str) -> int | None:
        """The latest snapshot's version, without reading the snapshot."""
        async with self._store.engine.connect() as c:
            version = await c.scalar(
                select(func.max(ThemeSnapshotRow.version)).where(
                    ThemeSnapshotRow.event_id == event_id
                )
            )
        return int(version) if version is not None else None

    async def events_needing_refresh(self) -> list[str]:
        """Events with a note changed after their latest themes read the notes."""
        async with self._store.session() as s:
            changed: dict[str, datetime] = {}
            for column in (NoteRow.updated_at, NoteRow.deleted_at):
                rows = await s.execute(
                    select(NoteRow.event_id, func.max(column)).group_by(NoteRow.event_id)
                )
                for event_id, ts in rows:
                    if ts is not None:
                        ts = as_utc(ts)
                        changed[event_id] = max(changed.get(event_id, ts), ts)
            covered = {
                event_id: as_utc(ts)
                for event_id, ts in await s.execute(
                    select(
                        ThemeSnapshotRow.event_id, func.max(ThemeSnapshotRow.notes_read_at)
                    ).group_by(ThemeSnapshotRow.event_id)
                )
                if ts is not None
            }
            return sorted(e for e, ts in changed.items() if e not in covered or covered[e] < ts)

    # steering ------------------------------------------------------------------------------

    async def edits(self, event_id: str) -> list[Edit]:
        """The facilitators' theme edits of an event, oldest first."""
        async with self._store.session() as s:
            rows = await s.scalars(
                select(ThemeEditRow)
                .where(ThemeEditRow.event_id == event_id)
                .order_by(ThemeEditRow.id)
            )
            return [edit_from_row(r.kind, r.theme_id, r.other_id, r.label, r.detail) for r in rows]

    async def add_edit(self, event_id: str, edit: Edit, author_id: str | None) -> int:
        async with self._store.write() as s:
            row = ThemeEditRow(
                event_id=event_id,
                kind=edit.kind,
                theme_id=edit.theme_id,
                other_id=edit.other_id,
                label=edit.label,
                detail=edit_detail(edit),
                author_id=author_id,
                created_at=utc_now(),
            )
            s.add(row)
            await s.flush()
            return int(row.id)


_NOTE_COLUMNS = (NoteRow.id, NoteRow.text, NoteRow.room_id, NoteRow.created_at, NoteRow.step_id)
_DELETED_AT = len(_NOTE_COLUMNS)  # where `changed_notes` reads it, after the note's columns


def _note_for_themes(row: Sequence[Any]) -> NoteForThemes:
    note_id, text, room_id, created, step = row[0], row[1], row[2], row[3], row[4]
    return NoteForThemes(
        str(note_id),
        str(text),
        str(room_id),
        as_utc(created) if created else None,
        str(step) if step is not None else None,
    )


def _json_text(c: Connection, raw: str) -> ColumnElement[Any]:
    """JSON already encoded, for a JSON column: PostgreSQL takes text only through a cast,
    while on SQLite a cast to JSON would mean a cast to a number."""
    value = type_coerce(raw, Text)
    return cast(value, JSON) if c.dialect.name == "postgresql" else value
