"""The agenda and seating tables against SQLite and the real PostgreSQL: migration, versions,
capacity under concurrency, and the seating history a reshuffle reads."""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from server import agenda as rules
from server.agenda import Agenda, Step
from server.migrate import alembic_config, upgrade_async
from server.protocol import ProtocolError
from server.store import Store
from server.store.agenda import load_agenda, save_agenda
from server.store.models import Base
from server.store.notices import add_broadcast, open_help, raise_help, recent_broadcasts
from server.store.removal import remove_participant
from server.store.seating import (
    decide_topic,
    met_pairs,
    move,
    propose_topic,
    seat_for_step,
    seated_people,
    set_role,
    topics,
)

MINE = {"agendas", "agenda_steps", "seatings", "help_requests", "broadcasts", "topics"}


def _drift(connection: Any) -> list[Any]:
    diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)

    def ours(diff: Any) -> bool:
        text = repr(diff)
        return any(name in text for name in MINE) or "step_id" in text

    return [d for d in diffs if ours(d)]


async def test_the_migration_matches_the_models_and_goes_down_and_up(
    store: Store, store_url: str
) -> None:
    async with store.engine.connect() as conn:
        assert await conn.run_sync(_drift) == []
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert tables >= MINE
    await store.engine.dispose()
    cfg = alembic_config(store_url)
    await asyncio.to_thread(command.downgrade, cfg, "0002_agenda@-1")
    async with store.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        columns = await conn.run_sync(
            lambda c: {col["name"] for col in inspect(c).get_columns("notes")}
        )
    assert not tables & MINE and "step_id" not in columns
    await store.engine.dispose()
    await upgrade_async(store_url)


async def test_agenda_changes_from_a_stale_read_are_refused(store: Store) -> None:
    event, _ = await store.create_event("Jury", "hash", [("T1", 4)])
    empty = await load_agenda(store, event.id)
    steps = (Step("s1" + event.id[:8], "One", duration=60), Step("s2" + event.id[:8], "Two"))
    first = rules.set_steps(empty, steps)
    assert await save_agenda(store, empty, first)
    assert not await save_agenda(store, empty, rules.set_steps(empty, steps[:1]))
    started = rules.start(first, steps[0].id, 1000.0)
    assert await save_agenda(store, first, started)
    assert not await save_agenda(store, first, rules.start(first, steps[1].id, 1000.0))
    back = await load_agenda(store, event.id)
    assert back == started
    reordered = rules.set_steps(back, (steps[1], steps[0]))
    assert await save_agenda(store, back, reordered)
    assert [s.id for s in (await load_agenda(store, event.id)).steps] == [
        steps[1].id,
        steps[0].id,
    ]


async def test_free_choices_never_overfill_a_room(store: Store) -> None:
    event, (plaza, small) = await store.create_event("Open", "hash", [("Plaza", 20), ("S", 2)])
    people = [await store.join(event.id, f"P{i}", "participant", plaza.id) for i in range(8)]
    results = await asyncio.gather(
        *[move(store, event.id, p.id, small.id, "chosen") for p in people],
        return_exceptions=True,
    )
    moved = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, ProtocolError)]
    assert len(moved) == 2 and len(refused) == 6
    assert {r.code for r in refused} == {"room_full"}
    counts = {r.id: r.members for r in await store.rooms(event.id)}
    assert counts == {plaza.id: 6, small.id: 2}


async def test_seatings_are_kept_per_step_for_the_next_reshuffle(store: Store) -> None:
    event, rooms = await store.create_event("Café", "hash", [(f"T{i}", 3) for i in range(3)])
    hosts = [await store.join(event.id, f"H{i}", "table_host", r.id) for i, r in enumerate(rooms)]
    guests = [await store.join(event.id, f"G{i}", "participant", None) for i in range(6)]
    rng = random.Random(7)
    agenda = rules.set_steps(Agenda(event.id), (Step("r1" + event.id[:8], "Round 1"),))
    assert await save_agenda(store, Agenda(event.id), agenda)
    await seat_for_step(store, event.id, "r1" + event.id[:8], "balanced", rng)
    async with store.session() as s:
        met = await met_pairs(s, event.id)
    assert sum(met.values()) == 3 * 3  # three pairs at each of three tables
    moves = await seat_for_step(store, event.id, "r2" + event.id[:8], "reshuffle", rng)
    assert all(m.participant.id not in {h.id for h in hosts} for m in moves)
    async with store.session() as s:
        met = await met_pairs(s, event.id)
    assert max(met.values()) == 1  # six guests, three tables: nobody needs to meet twice
    assert len(guests) == 6


async def test_topics_help_and_broadcasts_are_kept(store: Store) -> None:
    event, (plaza,) = await store.create_event("Open", "hash", [("Plaza", 20)])
    ana = await store.join(event.id, "Ana", "participant", plaza.id)
    fac = await store.join(event.id, "Fran", "facilitator", None)
    topic = await propose_topic(store, ana, "Bike lanes")
    decided, room, moved = await decide_topic(store, event.id, topic.id, True, 5)
    assert decided.status == "accepted" and room is not None and room.name == "Bike lanes"
    assert moved is not None and moved.participant.room_id == room.id
    assert [t.status for t in await topics(store, event.id)] == ["accepted"]
    await raise_help(store, ana, room.id, "Stuck")
    again = await raise_help(store, ana, room.id, "")
    assert again.text == "Stuck" and len(await open_help(store, event.id)) == 1
    await add_broadcast(store, fac, None, "To all")
    await add_broadcast(store, fac, plaza.id, "To the plaza")
    mine = await recent_broadcasts(store, event.id, room.id)
    assert [b.text for b in mine] == ["To all"]
    everything = await recent_broadcasts(store, event.id, None, everything=True)
    assert [b.text for b in everything] == ["To the plaza", "To all"]


async def _refused(call: Any) -> str:
    try:
        await call
    except ProtocolError as exc:
        return exc.code
    raise AssertionError("not refused")


async def test_a_removal_takes_the_seat_and_on_request_every_note(store: Store) -> None:
    event, (t1, t2) = await store.create_event("Jury", "hash", [("T1", 8), ("T2", 8)])
    fac = await store.join(event.id, "Fran", "facilitator", None)
    ana = await store.join(event.id, "Ana", "participant", t1.id)
    ben = await store.join(event.id, "Ben", "participant", t1.id)
    screen = await store.join(event.id, "Plenary screen", "observer", None)
    ids = [str(uuid.uuid4()) for _ in range(4)]
    await store.post_note(ana, t1, ids[0], "mine at table 1")
    await store.post_note(ben, t1, ids[1], "Ben's")
    await store.post_note(ana, t1, ids[2], "mine again")
    await move(store, event.id, ana.id, t2.id, "moved")
    await store.post_note(ana, t2, ids[3], "mine at table 2")
    await store.delete_note(t1, ids[2])  # already gone: no second diff for it
    heads = {t1.id: await store.head(t1.id), t2.id: await store.head(t2.id)}

    done = await remove_participant(store, fac, ana.id, delete_notes=True)
    assert done.participant.removed and done.participant.room_id is None
    assert done.from_room == t2.id
    deleted = {(d.room_id, d.seq) for d in done.deleted}
    assert deleted == {(t1.id, heads[t1.id][0] + 1), (t2.id, heads[t2.id][0] + 1)}
    for room in (t1, t2):
        seq, epoch = heads[room.id]
        stored = await store.frames_since(room.id, seq, epoch)
        assert stored == [d.frame for d in done.deleted if d.room_id == room.id]
    assert [n.id for n in (await store.snapshot(t1.id)).notes] == [ids[1]]
    assert (await store.snapshot(t2.id)).notes == []
    assert {r.id: r.members for r in await store.rooms(event.id)} == {t1.id: 1, t2.id: 0}
    assert [p.id for p in await seated_people(store, event.id)] == [ben.id]
    found = await store.participant(ana.id)
    assert found is not None and found.removed and found.room_id is None

    # Nothing seats them again: not a move, a new role, nor a strategy.
    assert await _refused(move(store, event.id, ana.id, t1.id, "moved")) == "not_found"
    assert await _refused(set_role(store, event.id, ana.id, "table_host")) == "not_found"
    placed = await seat_for_step(store, event.id, None, "random", random.Random(1), [[ana.id]])
    assert ana.id not in {m.participant.id for m in placed}
    assert (await store.participant(ana.id)) == found

    again = remove_participant(store, fac, ana.id, delete_notes=True)
    assert await _refused(again) == "conflict"
    assert await _refused(remove_participant(store, fac, fac.id, False)) == "invalid"
    assert await _refused(remove_participant(store, fac, "nobody", False)) == "not_found"
    other, _ = await store.create_event("Other", "hash", [("T", 8)])
    stranger = await store.join(other.id, "Zed", "participant", None)
    assert await _refused(remove_participant(store, fac, stranger.id, False)) == "not_found"

    # Without `delete_notes` the notes stay, and so do their diffs.
    kept = await remove_participant(store, fac, ben.id, delete_notes=False)
    assert kept.deleted == [] and kept.from_room == t1.id
    assert [n.id for n in (await store.snapshot(t1.id)).notes] == [ids[1]]
    gone = await remove_participant(store, fac, screen.id, delete_notes=False)
    assert gone.participant.removed and gone.from_room is None
    assert await seated_people(store, event.id) == []


async def test_two_removals_of_one_person_at_once_make_one(store: Store) -> None:
    event, (t1,) = await store.create_event("Jury", "hash", [("T1", 8)])
    fac = await store.join(event.id, "Fran", "facilitator", None)
    co = await store.join(event.id, "Gil", "facilitator", None)
    ana = await store.join(event.id, "Ana", "participant", t1.id)
    await store.post_note(ana, t1, str(uuid.uuid4()), "one note")
    results = await asyncio.gather(
        remove_participant(store, fac, ana.id, True),
        remove_participant(store, co, ana.id, True),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, ProtocolError)]
    done = [r for r in results if not isinstance(r, BaseException)]
    assert [r.code for r in refused] == ["conflict"] and len(done) == 1
    assert len(done[0].deleted) == 1
    assert (await store.head(t1.id))[0] == 2  # one post, one deletion
