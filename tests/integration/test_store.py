"""The repository against both backends: SQLite (aiosqlite) and the real PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from server import protocol
from server.migrate import alembic_config, upgrade_async
from server.protocol import ProtocolError
from server.rooms import Participant, Room
from server.store import Store
from server.store.likes import set_like
from server.store.models import AgendaRow, AgendaStepRow, Base
from server.store.removal import remove_participant
from server.store.report import report_notes


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    # A short history, so the tests can run past it.
    await upgrade_async(store_url)
    s = Store(store_url, history_per_room=20)
    yield s
    await s.close()


async def _seat(store: Store, n: int = 2, capacity: int = 8) -> tuple[Room, list[Participant]]:
    event, rooms = await store.create_event("Jury", "hash", [("T1", capacity), ("T2", capacity)])
    people = [await store.join(event.id, f"P{i}", "participant", rooms[0].id) for i in range(n)]
    room = await store.room(rooms[0].id)
    assert room is not None
    return room, people


async def test_concurrent_posts_get_unique_gapless_seqs(store: Store) -> None:
    room, (a, b) = await _seat(store)
    results = await asyncio.gather(
        *[
            store.post_note(a if i % 2 else b, room, str(uuid.uuid4()), f"note {i}")
            for i in range(40)
        ]
    )
    assert sorted(r.seq for r in results) == list(range(1, 41))
    snap = await store.snapshot(room.id)
    assert snap.seq == 40
    assert [n.text for n in snap.notes] == [
        r.note.text for r in sorted(results, key=lambda r: r.seq) if r.note
    ]
    # Every stored frame is the one that was broadcast, in order.
    frames = await store.frames_since(room.id, 0, snap.epoch)
    assert frames is not None
    assert [json.loads(f)["seq"] for f in frames] == list(range(1, 41))


async def _run_step(store: Store, event_id: str, step_id: str, title: str | None = None) -> None:
    """Make `step_id` the event's running step (with an agenda row titled `title`, if given),
    so notes posted from now on are written in it."""
    async with store.write() as s:
        if title is not None:
            s.add(
                AgendaStepRow(
                    id=step_id,
                    event_id=event_id,
                    position=0,
                    title=title,
                    prompt="",
                    mode="tables",
                    duration=0,
                    assign="keep",
                    recall=False,
                    topics=False,
                )
            )
        s.add(
            AgendaRow(
                event_id=event_id,
                version=1,
                step_id=step_id,
                status="running",
                warned=False,
                phase="open",
                free_seating=False,
            )
        )


async def test_a_stored_frame_is_the_broadcast_frame_and_names_the_step(store: Store) -> None:
    room, (a, _) = await _seat(store)
    first = await store.post_note(a, room, str(uuid.uuid4()), 'a "quoted" été 🎉 \\ text')
    await _run_step(store, room.event_id, "step-1")
    second = await store.post_note(a, room, str(uuid.uuid4()), "in a step")
    assert first.note is not None and second.note is not None
    assert (first.note.step_id, second.note.step_id) == (None, "step-1")
    for done in (first, second):
        assert done.frame == protocol.encode(
            "note.added",
            {"note": done.note.to_wire()} if done.note else {},
            room=room.id,
            seq=done.seq,
            epoch=done.epoch,
        )
    assert await store.frames_since(room.id, 0, first.epoch) == [first.frame, second.frame]


async def test_the_same_note_id_twice_is_one_note(store: Store) -> None:
    room, (a, b) = await _seat(store)
    nid = str(uuid.uuid4())
    first, second = await asyncio.gather(
        store.post_note(a, room, nid, "once"), store.post_note(a, room, nid, "once")
    )
    assert {first.seq, second.seq} == {1}
    assert [first.frame is None, second.frame is None].count(True) == 1
    assert len((await store.snapshot(room.id)).notes) == 1
    with pytest.raises(ProtocolError) as info:
        await store.post_note(b, room, nid, "stolen")
    assert info.value.code == "conflict"


async def test_history_is_trimmed_and_old_cursors_get_none(store: Store) -> None:
    room, (a, _) = await _seat(store)
    for i in range(100):
        await store.post_note(a, room, str(uuid.uuid4()), f"n{i}")
    snap = await store.snapshot(room.id)
    recent = await store.frames_since(room.id, 95, snap.epoch)
    assert recent is not None
    assert [json.loads(f)["seq"] for f in recent] == [96, 97, 98, 99, 100]
    assert await store.frames_since(room.id, 1, snap.epoch) is None
    assert await store.frames_since(room.id, 95, "e-other") is None
    assert await store.frames_since(room.id, 100, snap.epoch) == []
    assert await store.frames_since(room.id, 101, snap.epoch) is None


async def test_edit_delete_like_bump_the_room_seq(store: Store) -> None:
    room, (a, b) = await _seat(store)
    nid = str(uuid.uuid4())
    await store.post_note(a, room, nid, "v1")
    assert (await store.edit_note(room, nid, "v2")).seq == 2
    assert (await store.edit_note(room, nid, "v2")).frame is None  # no change, no diff
    assert (await set_like(store, room, nid, b, True)).done.seq == 3
    assert (await set_like(store, room, nid, b, True)).done.frame is None
    note = await store.note(nid)
    assert note is not None and note.likes == (b.id,) and note.text == "v2"
    assert (await store.delete_note(room, nid)).seq == 4
    assert (await store.delete_note(room, nid)).frame is None
    assert await store.note(nid) is None
    assert (await store.snapshot(room.id)).notes == []
    assert await store.themes.notes(room.event_id) == []


async def test_one_persons_tabs_liking_one_note_at_once_make_one_like(store: Store) -> None:
    # Two tabs (or a retried tap) of the same person, with no vote budget in play: every
    # call succeeds, one like is stored, one diff is recorded.
    room, (a, b) = await _seat(store)
    nid = str(uuid.uuid4())
    await store.post_note(a, room, nid, "Free buses")
    for _ in range(3):
        results = await asyncio.gather(*(set_like(store, room, nid, b, True) for _ in range(6)))
        assert sum(r.done.frame is not None for r in results) == 1
        note = await store.note(nid)
        assert note is not None and note.likes == (b.id,)
        await set_like(store, room, nid, b, False)
    frames = await store.frames_since(room.id, 0, (await store.snapshot(room.id)).epoch)
    assert frames is not None
    assert [json.loads(f)["type"] for f in frames] == ["note.added"] + ["note.likes"] * 6


async def test_the_themes_read_what_changed_since_a_moment(store: Store) -> None:
    room, (a, _) = await _seat(store)
    ids = [str(uuid.uuid4()) for _ in range(4)]
    for i, nid in enumerate(ids[:3]):
        await store.post_note(a, room, nid, f"note {i}")
    since = _now()
    assert await store.themes.changed_notes(room.event_id, since) == ([], [])
    await store.edit_note(room, ids[0], "note 0, edited")
    await store.delete_note(room, ids[1])
    await store.post_note(a, room, ids[3], "note 3")
    live, deleted = await store.themes.changed_notes(room.event_id, since)
    assert [(n.id, n.text) for n in live] == [(ids[0], "note 0, edited"), (ids[3], "note 3")]
    assert deleted == [ids[1]]
    assert {n.id for n in await store.themes.notes(room.event_id)} == {ids[0], ids[2], ids[3]}


async def test_seating_respects_capacity_under_concurrency(store: Store) -> None:
    event, rooms = await store.create_event("Cafe", "hash", [("A", 3), ("B", 3)])
    results = await asyncio.gather(
        *[store.join(event.id, f"P{i}", "participant", None) for i in range(8)],
        return_exceptions=True,
    )
    seated = [r for r in results if isinstance(r, Participant)]
    refused = [r for r in results if isinstance(r, ProtocolError)]
    assert len(seated) == 6 and len(refused) == 2
    assert all(r.code == "room_full" for r in refused)
    counts = {r.id: r.members for r in await store.rooms(event.id)}
    assert counts == {rooms[0].id: 3, rooms[1].id: 3}


async def test_themes_are_stored_and_read_back(store: Store) -> None:
    room, (a, _) = await _seat(store)
    assert await store.themes.events_needing_refresh() == []
    await store.post_note(a, room, str(uuid.uuid4()), "needs a theme")
    assert await store.themes.events_needing_refresh() == [room.event_id]
    assert await store.themes.version(room.event_id) is None
    assert await store.themes.latest_text(room.event_id) is None
    for v in range(1, 4):
        text = f'{{"version":{v},"themes":[{{"label":"écoles, vélo"}}]}}'
        assert await store.themes.save(room.event_id, v, text, _now())
    assert not await store.themes.save(room.event_id, 3, '{"version":3}', _now())  # taken
    assert await store.themes.version(room.event_id) == 3
    # Stored as it was encoded, byte for byte.
    assert await store.themes.latest_text(room.event_id) == text
    latest = await store.themes.latest(room.event_id)
    assert latest == {"version": 3, "themes": [{"label": "écoles, vélo"}]}
    assert await store.themes.events_needing_refresh() == []
    # A note changed after the notes were read is not covered, whenever the save happened.
    read_at = _now()
    await store.post_note(a, room, str(uuid.uuid4()), "late")
    await store.themes.save(room.event_id, 4, json.dumps({"version": 4, "themes": []}), read_at)
    assert await store.themes.events_needing_refresh() == [room.event_id]


async def test_a_post_survives_the_database_dropping_pooled_connections(
    postgres_url: str,
) -> None:
    await upgrade_async(postgres_url)
    store = Store(postgres_url)
    try:
        room, (a, _) = await _seat(store)
        await store.post_note(a, room, str(uuid.uuid4()), "before")
        import asyncpg

        # What a database restart does to a pool: every idle connection is cut.
        admin = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
        cut = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        await admin.close()
        assert cut >= 1
        note_id = str(uuid.uuid4())
        done = await store.post_note(a, room, note_id, "after")
        assert done.note is not None and done.note.id == note_id
        assert [n.text for n in (await store.snapshot(room.id)).notes] == ["before", "after"]
    finally:
        await store.close()


async def test_the_report_reads_every_live_note_with_its_table_step_and_likes(
    store: Store,
) -> None:
    room, (a, b) = await _seat(store)
    early = str(uuid.uuid4())
    await store.post_note(a, room, early, "before any step")
    await _run_step(store, room.event_id, "step-1", "Round 1: what worries you")
    liked, gone = str(uuid.uuid4()), str(uuid.uuid4())
    await store.post_note(b, room, liked, "in the step")
    await store.post_note(b, room, gone, "deleted later")
    for who in (a, b):
        await set_like(store, room, liked, who, True)
    await set_like(store, room, early, a, True)
    await store.delete_note(room, gone)

    rows = await report_notes(store, room.event_id)
    assert [(r.id, r.table, r.step, r.text, r.likes) for r in rows] == [
        (early, "T1", None, "before any step", 1),
        (liked, "T1", "Round 1: what worries you", "in the step", 2),
    ]
    assert all(r.created_at.tzinfo is not None for r in rows)
    assert await report_notes(store, "no-such-event") == []


async def test_an_events_language_round_trips(store: Store) -> None:
    event, _ = await store.create_event("Convention", "hash", [("T1", 8)], "fr")
    assert event.language == "fr"
    found = await store.event_by_code(event.join_code)
    assert found is not None and found[0] == event
    changed = await store.set_event_language(event.id, "de")
    assert changed == replace(event, language="de")
    assert await store.event(event.id) == changed
    found = await store.event_by_code(event.join_code)
    assert found is not None and found[0].language == "de"
    plain, _ = await store.create_event("Jury", "hash", [("T1", 8)])
    assert plain.language == "en" and (await store.event(plain.id)) == plain
    assert await store.set_event_language("no-such-event", "fr") is None


def _language_drift(connection: Any) -> list[Any]:
    diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    return [d for d in diffs if "language" in repr(d)]


async def test_the_language_migration_matches_the_model_and_keeps_events_going_down(
    store: Store, store_url: str
) -> None:
    async with store.engine.connect() as conn:
        assert await conn.run_sync(_language_drift) == []
    room, people = await _seat(store)
    event = await store.event(room.event_id)
    assert event is not None
    await store.set_event_language(event.id, "de")
    await store.engine.dispose()
    # On SQLite, a batch's copy of `events` would cascade-delete every room and person.
    # Down its branch to 0001, with whatever was added on top of it since.
    await asyncio.to_thread(
        command.downgrade, alembic_config(store_url), "0004_event_language@0001"
    )
    async with store.engine.connect() as conn:
        columns = await conn.run_sync(
            lambda c: {col["name"] for col in inspect(c).get_columns("events")}
        )
    assert "language" not in columns
    await store.engine.dispose()
    await upgrade_async(store_url)
    # Made before the column: English, as every event was then. Its tables and people stay.
    assert await store.event(event.id) == replace(event, language="en")
    assert {p.id for p in await store.members(room.id)} == {p.id for p in people}


async def test_a_migration_that_rebuilds_a_table_keeps_the_rows_that_point_at_it(
    store: Store, store_url: str
) -> None:
    # SQLite alters a column by copying its table and dropping the old one; with foreign keys
    # enforced, that drop would cascade to every like of every note.
    room, (a, b) = await _seat(store)
    nid = str(uuid.uuid4())
    await store.post_note(a, room, nid, "keep my likes")
    await set_like(store, room, nid, b, True)
    await set_like(store, room, nid, a, True)
    await store.engine.dispose()
    await asyncio.to_thread(command.downgrade, alembic_config(store_url), "0002_agenda@-1")
    await upgrade_async(store_url)
    note = await store.note(nid)
    assert note is not None and note.text == "keep my likes"
    assert sorted(note.likes) == sorted((a.id, b.id))
    assert {p.id for p in await store.members(room.id)} == {a.id, b.id}


BEFORE_REMOVAL = "0005_participant_removed@0004_event_language"


def _removal_drift(connection: Any) -> list[Any]:
    diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    return [d for d in diffs if "removed_at" in repr(d)]


async def _participant_columns(store: Store) -> set[str]:
    async with store.engine.connect() as conn:
        return await conn.run_sync(
            lambda c: {col["name"] for col in inspect(c).get_columns("participants")}
        )


async def test_the_removal_migration_matches_the_model_and_goes_down_and_up(
    store: Store, store_url: str
) -> None:
    async with store.engine.connect() as conn:
        assert await conn.run_sync(_removal_drift) == []
    room, (a, b) = await _seat(store)
    fac = await store.join(room.event_id, "Fran", "facilitator", None)
    nid = str(uuid.uuid4())
    await store.post_note(b, room, nid, "kept through both ways")
    await set_like(store, room, nid, a, True)
    await set_like(store, room, nid, b, True)
    await remove_participant(store, fac, b.id, delete_notes=False)
    await store.engine.dispose()
    cfg = alembic_config(store_url)
    # On SQLite, a batch copy of `participants` would take every note and like with it.
    await asyncio.to_thread(command.downgrade, cfg, BEFORE_REMOVAL)
    assert "removed_at" not in await _participant_columns(store)
    await store.engine.dispose()
    await upgrade_async(store_url)
    assert "removed_at" in await _participant_columns(store)
    # The schema before could not say who was removed: back in the event, still unseated.
    back = await store.participant(b.id)
    assert back is not None and not back.removed and back.room_id is None
    note = await store.note(nid)
    assert note is not None and sorted(note.likes) == sorted((a.id, b.id))
    assert {p.id for p in await store.members(room.id)} == {a.id}
    # And it goes down again cleanly with nobody removed.
    await store.engine.dispose()
    await asyncio.to_thread(command.downgrade, cfg, BEFORE_REMOVAL)
    await upgrade_async(store_url)
    assert (await store.participant(a.id)) == a
