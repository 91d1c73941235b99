"""Dot voting: a step's vote budget over the real wire, in the store under concurrency on
SQLite and the real PostgreSQL, and its migration down and up."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from server import agenda as rules
from server.agenda import Agenda, Step
from server.migrate import alembic_config, upgrade_async
from server.protocol import ProtocolError
from server.rooms import Participant, Room
from server.store import Store
from server.store.agenda import load_agenda, save_agenda
from server.store.likes import set_like, votes_left_now
from server.store.models import Base, LikeRow
from tests.client import Client, Session, create_event, join
from tests.conftest import LiveServer
from tests.event_client import Attendee, seat

WAIT = 20.0  # seconds; two cores shared with other work


# over the wire ---------------------------------------------------------------------------


async def _like(who: Attendee | Client, room: str, note: str, liked: bool = True) -> Any:
    kind = "note.like" if liked else "note.unlike"
    return await who.request(kind, {"room": room, "id": note})


def _left(reply: dict[str, Any]) -> Any:
    assert reply["type"] == "ack", reply
    assert set(reply["payload"]) == {"seq", "votes_left"}
    return reply["payload"]["votes_left"]


async def _watch_left(who: Attendee) -> Any:
    reply = await who.request("event.watch", {})
    assert reply["type"] == "ack", reply
    return reply["payload"]["votes_left"]


async def _likes_on_a_fresh_wall(ws_url: str, session: Session, room: str) -> dict[str, list[str]]:
    client = await Client.open(ws_url, session)
    try:
        joined = await client.join_room(room)
        return {n["id"]: n["likes"] for n in joined["payload"]["notes"]}
    finally:
        await client.close()


async def test_a_step_with_votes_limits_each_persons_likes_while_it_runs(
    live_server_fast: LiveServer,
) -> None:
    url, ws = live_server_fast.url, live_server_fast.ws_url
    fac_session = await create_event(url, "Priorities", rooms=1)
    code, room = fac_session.event["join_code"], fac_session.rooms[0]["id"]
    fac = await Attendee.open(ws, fac_session, join_room=False)
    ana_session = await seat(url, code, "Ana", room)
    ana = await Attendee.open(ws, ana_session)
    ben = await Attendee.open(ws, await seat(url, code, "Ben", room))
    hana = await Attendee.open(ws, await seat(url, code, "Hana", room, "table_host"))
    try:
        refused = await fac.request("agenda.set", {"steps": [{"title": "Vote", "votes": 21}]})
        assert refused["payload"]["code"] == "invalid"
        assert "steps.0.votes" in refused["payload"]["message"]
        steps = [
            {"title": "Write", "mode": "breakouts"},
            {"title": "Vote", "mode": "breakouts", "votes": 2},
            {"title": "Vote again", "mode": "breakouts", "votes": 2},
        ]
        agenda = (await fac.request("agenda.set", {"steps": steps}))["payload"]["agenda"]
        assert [s["votes"] for s in agenda["steps"]] == [0, 2, 2]
        write, vote, again = (s["id"] for s in agenda["steps"])
        notes = [
            (await ben.client.post(room, f"idea {i}"))["payload"]["note"]["id"] for i in range(7)
        ]

        # Before any step, and in a step without votes: no budget, likes unlimited.
        assert await _watch_left(ana) is None
        assert _left(await _like(ana, room, notes[0])) is None
        await fac.request("step.start", {"step": write})
        assert await _watch_left(ana) is None
        for note in notes[1:3]:
            assert _left(await _like(ana, room, note)) is None

        voting = (await fac.request("step.start", {"step": vote}))["payload"]["agenda"]
        assert voting["current"]["step"] == vote and voting["steps"][1]["votes"] == 2
        # Likes given before the step started do not count.
        assert await _watch_left(ana) == 2
        assert _left(await _like(ana, room, notes[3])) == 1
        last = await _like(ana, room, notes[4])
        assert _left(last) == 0
        # Up to the last like's diff: only then is anything later on Ben's socket new.
        while (await ben.until("note.likes", WAIT))["seq"] != last["payload"]["seq"]:
            pass
        third = await _like(ana, room, notes[5])
        assert third["type"] == "error" and third["payload"]["code"] == "no_votes_left"
        assert third["payload"]["message"] == "no votes left in this step: each person has 2"
        # Liking what is already liked stays a no-op, and still says what is left.
        assert _left(await _like(ana, room, notes[4])) == 0
        assert _left(await _like(ana, room, notes[0])) == 0
        assert await _watch_left(ana) == 0
        # Nothing was written: no diff, no seq taken; the next change follows the last like.
        back = await _like(ana, room, notes[3], liked=False)
        assert _left(back) == 1
        assert back["payload"]["seq"] == last["payload"]["seq"] + 1
        diff = await ben.until("note.likes", WAIT)
        assert diff["payload"]["id"] == notes[3] and diff["seq"] == back["payload"]["seq"]
        wall = await _likes_on_a_fresh_wall(ws, ana_session, room)
        assert wall[notes[5]] == [] and wall[notes[3]] == []
        assert wall[notes[4]] == [ana.id] and wall[notes[0]] == [ana.id]
        # The vote taken back is given again.
        assert _left(await _like(ana, room, notes[5])) == 0
        assert _left(await _like(ana, room, notes[6], liked=False)) == 0

        # Each person has their own budget, table hosts too; facilitators have none.
        assert _left(await _like(ben, room, notes[0])) == 1
        assert _left(await _like(hana, room, notes[0])) == 1
        assert _left(await _like(hana, room, notes[1])) == 0
        assert (await _like(hana, room, notes[2]))["payload"]["code"] == "no_votes_left"
        for note in notes:
            assert _left(await _like(fac, room, note)) is None
        assert await _watch_left(fac) is None

        # A pause does not lift the budget.
        await fac.request("step.pause", {})
        assert (await _like(ana, room, notes[6]))["payload"]["code"] == "no_votes_left"
        assert await _watch_left(ana) == 0

        # A new step starts from nothing.
        await fac.request("step.start", {"step": again})
        assert await _watch_left(ana) == 2
        assert _left(await _like(ana, room, notes[6])) == 1
        assert await _watch_left(hana) == 2

        # After the end, likes are unlimited again.
        await fac.request("step.end", {})
        assert await _watch_left(ana) is None
        assert _left(await _like(ana, room, notes[3])) is None
        wall = await _likes_on_a_fresh_wall(ws, ana_session, room)
        assert sum(ana.id in likes for likes in wall.values()) == 7
    finally:
        await asyncio.gather(*(p.close() for p in (ana, ben, hana, fac)), return_exceptions=True)


async def test_the_templates_carry_each_steps_votes(live_server_fast: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server_fast.url) as http:
        listed = (await http.get("/api/templates")).json()["templates"]
    by_name = {t["name"]: t for t in listed}
    assert all("votes" in s for t in listed for s in t["steps"])
    workshop = {s["title"]: s["votes"] for s in by_name["future_workshop"]["steps"]}
    assert workshop["Realisation"] == 3 and workshop["Vision"] == 0


@pytest.mark.postgres
@pytest.mark.redis
async def test_two_tabs_on_two_processes_never_exceed_the_budget(
    two_processes: tuple[LiveServer, LiveServer],
) -> None:
    one, two = two_processes
    fac_session = await create_event(one.url, "Priorities", rooms=1)
    code, room = fac_session.event["join_code"], fac_session.rooms[0]["id"]
    ana_session = await join(one.url, code, "Ana", room)
    fac = await Attendee.open(one.ws_url, fac_session, join_room=False)
    tabs = [await Attendee.open(server.ws_url, ana_session) for server in (one, two, one, two)]
    try:
        steps = [{"title": "Vote", "votes": 3}]
        step = (await fac.request("agenda.set", {"steps": steps}))["payload"]["agenda"]["steps"][0]
        notes = [
            (await fac.client.post(room, f"option {i}"))["payload"]["note"]["id"] for i in range(16)
        ]
        await fac.request("step.start", {"step": step["id"]})
        for _ in range(3):
            replies = await asyncio.gather(
                *(_like(tabs[i % len(tabs)], room, note) for i, note in enumerate(notes))
            )
            acks = [r for r in replies if r["type"] == "ack"]
            codes = {r["payload"]["code"] for r in replies if r["type"] == "error"}
            assert len(acks) == 3 and codes == {"no_votes_left"}, replies
            assert sorted(_left(r) for r in acks) == [0, 1, 2]
            wall = await _likes_on_a_fresh_wall(two.ws_url, ana_session, room)
            assert sum(likes == [tabs[0].id] for likes in wall.values()) == 3
            # Every vote taken back, for the next race.
            for note in notes:
                assert _left(await _like(tabs[0], room, note, liked=False)) is not None
            assert await _watch_left(tabs[1]) == 3
    finally:
        await asyncio.gather(*(p.close() for p in (*tabs, fac)), return_exceptions=True)


# the store ---------------------------------------------------------------------------------


async def _voting(
    store: Store, votes: int, n_rooms: int = 2
) -> tuple[list[Room], Participant, Participant, Agenda]:
    """An event whose step with `votes` runs, a voter at the first table and an author."""
    event, rooms = await store.create_event("Jury", "hash", [(f"T{i}", 8) for i in range(n_rooms)])
    voter = await store.join(event.id, "Ana", "participant", rooms[0].id)
    author = await store.join(event.id, "Ben", "participant", rooms[0].id)
    before = await load_agenda(store, event.id)
    step = Step("v" + event.id[:16], "Vote", votes=votes)
    listed = rules.set_steps(before, (step,))
    assert await save_agenda(store, before, listed)
    running = rules.start(listed, step.id, 1000.0)
    assert await save_agenda(store, listed, running)
    return rooms, voter, author, running


async def _post(store: Store, author: Participant, room: Room, text: str) -> str:
    nid = str(uuid.uuid4())
    await store.post_note(author, room, nid, text)
    return nid


async def _likes_by(store: Store, participant_id: str) -> list[tuple[str, str | None]]:
    async with store.session() as s:
        rows = await s.execute(
            select(LikeRow.note_id, LikeRow.step_id).where(LikeRow.participant_id == participant_id)
        )
        return [(str(n), s_id) for n, s_id in rows]


async def test_concurrent_likes_of_one_person_never_exceed_the_budget(store: Store) -> None:
    # Notes at two tables: the person's row, not the room's, is what the likes queue on.
    rooms, voter, author, _ = await _voting(store, votes=2)
    notes = [(room, await _post(store, author, room, f"n{i}")) for i in range(4) for room in rooms]
    for round_ in range(3):
        results = await asyncio.gather(
            *(set_like(store, room, nid, voter, True) for room, nid in notes),
            return_exceptions=True,
        )
        refused = [r for r in results if isinstance(r, ProtocolError)]
        assert len(refused) == len(notes) - 2, results
        assert {r.code for r in refused} == {"no_votes_left"}
        assert len(await _likes_by(store, voter.id)) == 2
        assert await _left_now(store, voter) == 0
        # Take both back, and race again.
        for room, nid in notes:
            await set_like(store, room, nid, voter, False)
        assert await _left_now(store, voter) == 2, round_


async def _left_now(store: Store, voter: Participant) -> int | None:
    return await votes_left_now(store, voter, await load_agenda(store, voter.event_id))


async def test_likes_record_the_step_they_were_given_in(store: Store) -> None:
    rooms, voter, author, running = await _voting(store, votes=1, n_rooms=1)
    room = rooms[0]
    first, deleted, later = [await _post(store, author, room, t) for t in ("a", "b", "c")]
    liked = await set_like(store, room, deleted, voter, True)
    assert liked.votes_left == 0 and liked.done.frame is not None
    # A like on a note deleted since holds no vote: it cannot be taken back.
    await store.delete_note(room, deleted)
    assert await _left_now(store, voter) == 1
    assert (await set_like(store, room, first, voter, True)).votes_left == 0
    ended, _ = rules.end(running, 2000.0)
    assert await save_agenda(store, running, ended)
    outside = await set_like(store, room, later, voter, True)
    assert outside.votes_left is None
    step = running.clock.step_id
    assert sorted(await _likes_by(store, voter.id)) == sorted(
        [(deleted, step), (first, step), (later, None)]
    )


# Down the branch 0006 is on, to the revision before it, with whatever came after it since.
BEFORE_VOTES = "0006_step_votes@0005_participant_removed"


def _vote_drift(connection: Any) -> list[Any]:
    diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    return [d for d in diffs if "likes" in repr(d) or "votes" in repr(d)]


def _columns(connection: Any) -> dict[str, set[str]]:
    found = inspect(connection)
    return {t: {c["name"] for c in found.get_columns(t)} for t in ("likes", "agenda_steps")}


async def test_the_votes_migration_matches_the_models_and_goes_down_and_up(
    store: Store, store_url: str
) -> None:
    async with store.engine.connect() as conn:
        assert await conn.run_sync(_vote_drift) == []
    rooms, voter, author, running = await _voting(store, votes=3, n_rooms=1)
    room = rooms[0]
    nid = await _post(store, author, room, "kept through both ways")
    await set_like(store, room, nid, voter, True)
    await set_like(store, room, nid, author, True)
    await store.engine.dispose()
    cfg = alembic_config(store_url)
    # On SQLite, a batch copy of `likes` or `agenda_steps` is needless; going down keeps rows.
    await asyncio.to_thread(command.downgrade, cfg, BEFORE_VOTES)
    async with store.engine.connect() as conn:
        columns = await conn.run_sync(_columns)
    assert "step_id" not in columns["likes"] and "votes" not in columns["agenda_steps"]
    await store.engine.dispose()
    await upgrade_async(store_url)
    async with store.engine.connect() as conn:
        assert await conn.run_sync(_columns) == {
            "likes": {"note_id", "participant_id", "created_at", "step_id"},
            "agenda_steps": {
                "id",
                "event_id",
                "position",
                "title",
                "prompt",
                "mode",
                "duration",
                "assign",
                "recall",
                "topics",
                "votes",
                "choices",
            },
        }
        assert await conn.run_sync(_vote_drift) == []
    # Stored before budgets: the step reads as unlimited, the likes as given outside a step.
    agenda = await load_agenda(store, room.event_id)
    assert agenda.steps == tuple(replace(s, votes=0) for s in running.steps)
    assert await _left_now(store, voter) is None
    note = await store.note(nid)
    assert note is not None and sorted(note.likes) == sorted((voter.id, author.id))
    assert {step for _, step in await _likes_by(store, voter.id)} == {None}
    # And it goes down again cleanly.
    await store.engine.dispose()
    await asyncio.to_thread(command.downgrade, cfg, BEFORE_VOTES)
    await upgrade_async(store_url)
    assert (await store.note(nid)) == note
