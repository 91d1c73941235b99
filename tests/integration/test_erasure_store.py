"""Erasing an event in the store on both backends, and from the `tablee delete-event` command:
the counts, every row gone, the other event intact, and what comes for the erased event
afterwards refused cleanly, with no text of it in an error."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, insert, inspect
from sqlalchemy.exc import IntegrityError

from nlp.steering import Edit
from nlp.worker import EventGone
from server.cli import main as tablee
from server.migrate import alembic_config, upgrade_async
from server.protocol import ProtocolError
from server.rooms import Event, Participant, Room
from server.store import Store
from server.store.erasure import EventCounts, count_event, erase_event
from server.store.likes import set_like
from server.store.models import Base, NoteRow
from server.store.notices import add_broadcast, raise_help
from server.store.seating import propose_topic
from tests.integration.test_erasure import dump, ids_of, touching


async def _event(store: Store, title: str, mark: str) -> tuple[Event, Room, list[Participant]]:
    """An event with a note each, a like, a deleted note, themes and an edit, a broadcast,
    a help call and a topic, every text carrying `mark`."""
    event, rooms = await store.create_event(title, "hash", [("T1", 8), ("T2", 8)])
    room = rooms[0]
    fac = await store.join(event.id, f"Fac {mark}", "facilitator", None)
    people = [await store.join(event.id, f"P{i} {mark}", "participant", room.id) for i in (1, 2)]
    notes = [
        (await store.post_note(p, room, str(uuid.uuid4()), f"idea {mark}")).note for p in people
    ]
    assert notes[0] is not None and notes[1] is not None
    await set_like(store, room, notes[0].id, people[1], True)
    await store.delete_note(room, notes[1].id)
    await store.themes.save(event.id, 1, f'{{"version": 1, "label": "{mark}"}}', _now())
    await store.themes.add_edit(event.id, Edit("rename", theme_id="t-1", label=mark), fac.id)
    await add_broadcast(store, fac, None, f"break {mark}")
    await raise_help(store, people[0], room.id, f"a pen {mark}")
    await propose_topic(store, people[0], f"topic {mark}")
    return event, room, [fac, *people]


def _now() -> datetime:
    return datetime.now(UTC)


async def test_an_event_is_erased_whole_and_the_other_stays(store: Store, store_url: str) -> None:
    mark = "zq" + uuid.uuid4().hex[:8]
    gone, gone_room, gone_people = await _event(store, "Erased", mark)
    kept, _, _ = await _event(store, "Kept", "kept")
    before = await dump(store_url)

    counts = EventCounts(notes=2, participants=3, rooms=2, answers=0)
    assert await count_event(store, gone.id) == counts
    assert await erase_event(store, gone.id) == counts
    assert await erase_event(store, gone.id) is None
    assert await count_event(store, gone.id) == EventCounts(0, 0, 0, 0)

    after = await dump(store_url)
    erased, stay = ids_of(before, gone.id), ids_of(before, kept.id)
    assert {t: rows for t, rows in touching(after, erased).items() if rows} == {}
    assert touching(after, stay) == touching(before, stay)
    assert mark not in repr(after)
    assert await store.event(gone.id) is None
    assert await store.event_by_code(gone.join_code) is None

    # What was under way for it fails cleanly, and no error carries its text.
    with pytest.raises(ProtocolError) as refused:
        await store.post_note(gone_people[1], gone_room, str(uuid.uuid4()), f"late {mark}")
    assert refused.value.code == "not_found"
    with pytest.raises(EventGone):
        await store.themes.save(gone.id, 2, f'{{"label": "{mark}"}}', _now())
    assert await store.themes.save(kept.id, 1, "{}", _now()) is False  # taken: not gone
    with pytest.raises(IntegrityError) as failed:
        await store.write_sync(
            lambda c: c.execute(
                insert(NoteRow).values(
                    id=str(uuid.uuid4()),
                    event_id=gone.id,
                    room_id=gone_room.id,
                    author_id=gone_people[1].id,
                    text=f"late {mark}",
                    seq=1,
                    created_at=_now(),
                    updated_at=_now(),
                )
            )
        )
    assert mark not in str(failed.value)


def test_delete_event_shows_what_it_would_erase_then_erases_it_with_yes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("TABLEE_DATABASE_URL", url)
    monkeypatch.setenv("TABLEE_BROKER_URL", "memory://")

    async def setup() -> tuple[Event, Event]:
        await upgrade_async(url)
        store = Store(url)
        try:
            gone, _, _ = await _event(store, "Erased", "gone")
            kept, _, _ = await _event(store, "Kept", "kept")
            return gone, kept
        finally:
            await store.close()

    async def counts(event_id: str) -> EventCounts:
        store = Store(url)
        try:
            return await count_event(store, event_id)
        finally:
            await store.close()

    gone, kept = asyncio.run(setup())
    held = EventCounts(notes=2, participants=3, rooms=2, answers=0)

    assert tablee(["delete-event", gone.join_code]) == 1
    out = capsys.readouterr().out
    assert "would delete 'Erased'" in out
    assert "2 notes, 3 participants, 2 rooms, 0 answers" in out
    assert f"tablee delete-event {gone.join_code} --yes" in out
    assert asyncio.run(counts(gone.id)) == held

    assert tablee(["delete-event", "NOSUCH", "--yes"]) == 1
    assert "no event has the code" in capsys.readouterr().err

    assert tablee(["delete-event", gone.join_code.lower(), "--yes"]) == 0
    done = capsys.readouterr()
    assert "deleted 'Erased'" in done.out and "2 notes, 3 participants" in done.out
    assert "keeps the event's open pages and themes in memory" in done.err
    assert asyncio.run(counts(gone.id)) == EventCounts(0, 0, 0, 0)
    assert asyncio.run(counts(kept.id)) == held
    assert tablee(["delete-event", gone.join_code, "--yes"]) == 1


BEFORE_INDEXES = "0008_erasure_indexes@0007_step_choices"


def _foreign_keys_without_index(c: Connection) -> list[str]:
    found = inspect(c)
    missing = []
    for table in found.get_table_names():
        indexed = [ix["column_names"] for ix in found.get_indexes(table)]
        indexed += [u["column_names"] for u in found.get_unique_constraints(table)]
        indexed.append(found.get_pk_constraint(table)["constrained_columns"])
        for fk in found.get_foreign_keys(table):
            columns = fk["constrained_columns"]
            if not any(ix[: len(columns)] == columns for ix in indexed):
                missing.append(f"{table}.{','.join(columns)}")
    return missing


def _index_drift(c: Connection) -> list[object]:
    diffs = compare_metadata(MigrationContext.configure(c), Base.metadata)
    return [d for d in diffs if "index" in repr(d).lower()]


async def test_every_foreign_key_is_indexed_and_the_migration_goes_down_and_up(
    store: Store, store_url: str
) -> None:
    async with store.engine.connect() as c:
        assert await c.run_sync(_foreign_keys_without_index) == []
        assert await c.run_sync(_index_drift) == []
    gone, _, _ = await _event(store, "Erased", "gone")
    await store.engine.dispose()
    await asyncio.to_thread(command.downgrade, alembic_config(store_url), BEFORE_INDEXES)
    async with store.engine.connect() as c:
        assert "notes.author_id" in await c.run_sync(_foreign_keys_without_index)
    await store.engine.dispose()
    await upgrade_async(store_url)
    async with store.engine.connect() as c:
        assert await c.run_sync(_foreign_keys_without_index) == []
    assert await count_event(store, gone.id) == EventCounts(2, 3, 2, 0)
