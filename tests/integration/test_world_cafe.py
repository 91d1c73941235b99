"""A scripted world café on a real server: 24 people, 6 tables, 3 rounds with reshuffles.

Hosts stay at their tables, everyone else is reshuffled between rounds, everyone writes at
every round. At the end every wall holds exactly the notes written at it, each note knows the
round it was written in, and the themes cover every note.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from server.assignment import repeated_pairs
from tests.client import create_event
from tests.conftest import LiveServer
from tests.event_client import Attendee, seat

TOPICS = [
    "bike lanes on the main road",
    "free school meals for every child",
    "more trees and shade in the parks",
    "cheaper buses at night",
    "a library open on sundays",
    "safer crossings near schools",
]


def covered(snapshot: dict[str, Any], ids: set[str]) -> bool:
    seen = {n for t in snapshot["themes"] for n in t["note_ids"]}
    seen |= {u["id"] for u in snapshot["unthemed"]}
    return ids <= seen


async def test_a_world_cafe_of_24_over_3_rounds(live_server_fast: LiveServer) -> None:
    url, ws = live_server_fast.url, live_server_fast.ws_url
    fac_session = await create_event(url, "Town café", rooms=6, capacity=4)
    code = fac_session.event["join_code"]
    tables = [r["id"] for r in fac_session.rooms]
    hosts = [await seat(url, code, f"Host {i}", tables[i], "table_host") for i in range(6)]
    travellers = [await seat(url, code, f"Guest {i}") for i in range(18)]
    fac = await Attendee.open(ws, fac_session, join_room=False)
    people = [await Attendee.open(ws, s) for s in hosts + travellers]
    try:
        assert (await fac.request("console.watch", {}))["type"] == "ack"
        assert (await fac.request("themes.watch", {}))["type"] == "ack"
        loaded = await fac.request("agenda.load", {"template": "world_cafe"})
        steps = loaded["payload"]["agenda"]["steps"]
        rounds = [s for s in steps if s["title"].startswith("Round")]
        assert [r["assign"] for r in rounds] == ["balanced", "reshuffle", "reshuffle"]

        written: dict[str, tuple[str, str, str]] = {}  # note id -> (author, room, step)
        seatings: list[dict[str, str]] = []
        for n, step in enumerate(rounds):
            started = await fac.request("step.start", {"step": step["id"]})
            assert started["payload"]["agenda"]["current"]["status"] == "running"
            await asyncio.gather(*(p.until_step(step["id"]) for p in people))
            seatings.append({p.id: str(p.room) for p in people})
            for p in people:
                if p.moves and p.moves[-1]["room"]["id"] != p.moves[-1]["from"]:
                    await p.follow_move()
                    p.moves.clear()

            async def write(p: Attendee, round_no: int = n, step_id: str = step["id"]) -> None:
                for k in range(2):
                    topic = TOPICS[(hash(p.id) + k + round_no) % len(TOPICS)]
                    reply = await p.client.post(str(p.room), f"{topic} (round {round_no + 1})")
                    assert reply["type"] == "ack", reply
                    note = reply["payload"]["note"]
                    assert note["room_id"] == p.room and note["step_id"] == step_id
                    written[note["id"]] = (p.id, str(p.room), step_id)

            await asyncio.gather(*(write(p) for p in people))

        # Hosts never moved; tables never over capacity; travellers really travelled.
        for i, h in enumerate(people[:6]):
            assert all(s[h.id] == tables[i] for s in seatings)
        for s in seatings:
            assert max(Counter(s.values()).values()) <= 4
        moved_twice = sum(1 for p in people[6:] if len({s[p.id] for s in seatings}) == 3)
        assert moved_twice >= 12
        repeats = repeated_pairs(seatings)
        assert repeats <= 2, repeats

        # Every wall holds exactly what was written at it, by whom, in which round.
        stored: dict[str, dict[str, Any]] = {}
        for room in tables:
            snap = (await fac.client.join_room(room))["payload"]
            for note in snap["notes"]:
                stored[note["id"]] = note
        assert set(stored) == set(written)
        assert len(written) == 24 * 2 * 3
        for note_id, (author, room, step_id) in written.items():
            note = stored[note_id]
            assert (note["author"]["id"], note["room_id"], note["step_id"]) == (
                author,
                room,
                step_id,
            )

        # And the themes, made across all tables, cover every note.
        async with asyncio.timeout(60):
            while True:
                frame = await fac.until("themes.snapshot", timeout=60)
                if covered(frame["payload"], set(written)):
                    break
        # Each theme says in which rounds its notes were written.
        for theme in frame["payload"]["themes"]:
            counts = Counter(written[n][2] for n in theme["note_ids"])
            assert {s["id"]: s["count"] for s in theme["steps"]} == counts
            assert [s["count"] for s in theme["steps"]] == sorted(counts.values(), reverse=True)
        print(f"\nworld café over the wire: {repeats} repeated pairs in {len(rounds)} rounds")
    finally:
        await asyncio.gather(*(p.close() for p in [*people, fac]), return_exceptions=True)


async def test_a_move_changes_presence_and_the_seat_in_every_view(
    live_server_fast: LiveServer,
) -> None:
    url, ws = live_server_fast.url, live_server_fast.ws_url
    fac_session = await create_event(url, "Moves", rooms=2)
    code = fac_session.event["join_code"]
    t1, t2 = (r["id"] for r in fac_session.rooms)
    ana = await Attendee.open(ws, await seat(url, code, "Ana", t1))
    ben = await Attendee.open(ws, await seat(url, code, "Ben", t1))
    cat = await Attendee.open(ws, await seat(url, code, "Cat", t2))
    fac = await Attendee.open(ws, fac_session, join_room=False)
    try:
        await fac.request("console.watch", {})
        note = (await ana.client.post(t1, "Written at table one"))["payload"]["note"]
        moved = await fac.request("people.move", {"participant": ana.id, "room": t2})
        assert moved["payload"]["participant"]["room_id"] == t2
        notice = await ana.until("moved")
        assert notice["payload"]["from"] == t1 and notice["payload"]["room"]["id"] == t2
        assert notice["payload"]["reason"] == "moved"
        await _presence(ben, "leaves", ana.id)
        await ana.follow_move()
        await _presence(cat, "joins", ana.id)
        people = await fac.until("people.updated")
        assert people["payload"]["people"][0]["room_id"] == t2
        # Ana's note stays at table one; at table one she can no longer write.
        wall_1 = (await ben.client.join_room(t1))["payload"]["notes"]
        assert [n["id"] for n in wall_1] == [note["id"]]
        refused = await ana.client.post(t1, "Too late")
        assert refused["payload"]["code"] == "not_member"
        assert (await ana.client.post(t2, "Now at table two"))["type"] == "ack"
        # A reconnect lands her at her new table.
        await ana.close()
        again = await Attendee.open(ws, ana.client.session)
        assert again.room == t2
        await again.close()
    finally:
        for p in (ben, cat, fac):
            await p.close()


async def test_keeping_groups_together_and_capacity_on_manual_moves(
    live_server_fast: LiveServer,
) -> None:
    url, ws = live_server_fast.url, live_server_fast.ws_url
    fac_session = await create_event(url, "Groups", rooms=3, capacity=3)
    code = fac_session.event["join_code"]
    sessions = [await seat(url, code, f"P{i}") for i in range(7)]
    fac = await Attendee.open(ws, fac_session, join_room=False)
    try:
        pair = [sessions[0].participant["id"], sessions[1].participant["id"]]
        for _ in range(5):
            reply = await fac.request("rooms.assign", {"strategy": "random", "groups": [pair]})
            assert reply["type"] == "ack", reply
            seats = {p["id"]: p["room_id"] for p in await _people(fac)}
            assert seats[pair[0]] == seats[pair[1]]
            assert max(Counter(seats.values()).values()) <= 3
        full = next(r for r, n in Counter(seats.values()).items() if n == 3)
        outsider = next(p for p, r in seats.items() if r != full)
        refused = await fac.request("people.move", {"participant": outsider, "room": full})
        assert refused["payload"]["code"] == "room_full"
        too_big = await fac.request(
            "rooms.assign",
            {"strategy": "balanced", "groups": [[s.participant["id"] for s in sessions[:4]]]},
        )
        assert too_big["payload"]["code"] == "room_full"
        assert {p["id"]: p["room_id"] for p in await _people(fac)} == seats
    finally:
        await fac.close()


async def _people(fac: Attendee) -> list[dict[str, Any]]:
    reply = await fac.request("console.watch", {})
    people: list[dict[str, Any]] = reply["payload"]["people"]
    return people


async def _presence(who: Attendee, kind: str, member: str) -> None:
    """Wait for the presence diff in which `member` joins or leaves `who`'s room."""
    while True:
        diff = (await who.until("presence.diff", timeout=5))["payload"]
        if member in [m["id"] for m in diff[kind]]:
            return
