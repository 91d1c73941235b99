"""The spotlight's table on SQLite and the real PostgreSQL: migration, versions under
concurrency, compare-and-set, fresh notes, and erasure with its event."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from server.migrate import alembic_config, upgrade_async
from server.spotlight import Spotlight, SpotNote, note_spotlight
from server.store import Store
from server.store.erasure import erase_event
from server.store.models import Base
from server.store.spotlight import room_spot_notes, show, shown, spot_notes

AT = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def _drift(connection: Any) -> list[Any]:
    diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    return [d for d in diffs if "spotlights" in repr(d)]


async def test_the_migration_matches_the_model_and_goes_down_and_up(
    store: Store, store_url: str
) -> None:
    async with store.engine.connect() as conn:
        assert await conn.run_sync(_drift) == []
    await store.engine.dispose()
    cfg = alembic_config(store_url)
    await asyncio.to_thread(command.downgrade, cfg, "0009_spotlight@-1")
    async with store.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert "spotlights" not in tables and "notes" in tables
    await store.engine.dispose()
    await upgrade_async(store_url)


def _spot(text: str) -> Spotlight:
    return note_spotlight(SpotNote("n1", text, "r1", "Table 1", 0), "Ben", AT)


async def test_every_change_takes_the_next_version_even_at_once(store: Store) -> None:
    event, _ = await store.create_event("Screen", "hash", [("T1", 8)])
    assert (await shown(store, event.id)).version == 0
    # Ten facilitators' first choices at once: each gets its own version, none is lost.
    done = await asyncio.gather(*(show(store, event.id, _spot(f"n{i}")) for i in range(10)))
    assert sorted(d.version for d in done if d is not None) == list(range(1, 11))
    last = await shown(store, event.id)
    assert last.version == 10 and last.spotlight is not None
    assert last.spotlight in {d.spotlight for d in done if d is not None and d.version == 10}
    # Compare-and-set: a change computed from version 9 is refused; from 10 it is taken.
    assert await show(store, event.id, None, if_version=9) is None
    cleared = await show(store, event.id, None, if_version=10)
    assert cleared is not None and cleared.version == 11
    assert (await shown(store, event.id)).spotlight is None
    # Stored and read back whole.
    await show(store, event.id, _spot("Car-free Sundays"))
    back = (await shown(store, event.id)).spotlight
    assert back == _spot("Car-free Sundays")


async def test_notes_are_read_fresh_and_go_with_their_event(store: Store) -> None:
    event, _ = await store.create_event("Walls", "hash", [("T1", 8), ("T2", 8)])
    t1, t2 = await store.rooms(event.id)
    ana = await store.join(event.id, "Ana", "participant", t1.id)
    ids = []
    for i, text in enumerate(("one", "two", "three")):
        done = await store.post_note(ana, t1, f"00000000-0000-4000-8000-00000000000{i}", text)
        assert done.note is not None
        ids.append(done.note.id)
    await store.delete_note(t1, ids[2])
    other, _ = await store.create_event("Elsewhere", "hash", [("T", 8)])
    found = await spot_notes(store, event.id, [*ids, "missing"])
    assert set(found) == set(ids[:2])
    assert found[ids[0]] == SpotNote(ids[0], "one", t1.id, "T1", 0)
    assert await spot_notes(store, other.id, ids) == {}
    assert {n.id for n, _ in await room_spot_notes(store, t1.id, None)} == set(ids[:2])
    assert await room_spot_notes(store, t2.id, None) == []
    assert await room_spot_notes(store, t1.id, "no-such-step") == []

    await show(store, event.id, _spot("one"))
    assert await erase_event(store, event.id) is not None
    assert (await shown(store, event.id)).version == 0
