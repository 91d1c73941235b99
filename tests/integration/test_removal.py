"""A facilitator removes someone from an event, over the real wire: their connections are
told and closed wherever they are, their seat and (on request) their notes go, their token
is refused from then on, and nothing else changes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.store import Store
from tests.client import Client, Session, create_event, join, refused_at_connect
from tests.conftest import LiveServer
from tests.event_client import Attendee, seat

CLOSE_REMOVED = 4403
WAIT = 20.0  # seconds; two cores shared with other work


async def _closed_with(client: Client) -> tuple[int | None, str]:
    return await asyncio.wait_for(asyncio.shield(client.closed), WAIT)


async def _leaves(member: Attendee, room: str, who: str) -> dict[str, Any]:
    while True:
        frame = await member.until("presence.diff", WAIT)
        if frame["room"] == room and who in [m["id"] for m in frame["payload"]["leaves"]]:
            return frame


async def _notes_in_store(db: Path, ids: list[str]) -> list[str]:
    store = Store(f"sqlite+aiosqlite:///{db}")
    try:
        return [i for i in ids if await store.note(i) is not None]
    finally:
        await store.close()


async def test_a_removed_participant_is_told_closed_unseated_and_refused(
    live_server_fast: LiveServer,
) -> None:
    url, ws = live_server_fast.url, live_server_fast.ws_url
    fac_session = await create_event(url, "Assembly", rooms=2)
    code = fac_session.event["join_code"]
    t1 = fac_session.rooms[0]["id"]
    fac = await Attendee.open(ws, fac_session, join_room=False)
    ana_session = await seat(url, code, "Ana", t1)
    ana_id = ana_session.participant["id"]
    ana = await Attendee.open(ws, ana_session)
    # A second tab that never sent `event.watch` nor joined a room.
    ana_tab = await Client.open(ws, ana_session)
    ben = await Attendee.open(ws, await seat(url, code, "Ben", t1))
    try:
        await fac.request("console.watch", {})
        mine = [(await ana.client.post(t1, f"disruption {i}"))["payload"]["note"] for i in range(3)]
        kept = (await ben.client.post(t1, "a real idea"))["payload"]["note"]
        ids = [n["id"] for n in mine]

        ack = await fac.request("people.remove", {"participant": ana_id, "delete_notes": True})
        assert ack["type"] == "ack", ack
        assert ack["payload"]["deleted_notes"] == 3
        assert ack["payload"]["participant"] == {
            "id": ana_id,
            "pseudonym": "Ana",
            "role": "participant",
            "room_id": None,
        }

        # Every connection of Ana: `removed`, then closed by the server.
        told = await ana.until("removed", WAIT)
        assert told["payload"] == {"participant": ana_id}
        assert (await _closed_with(ana.client))[0] == CLOSE_REMOVED
        assert (await ana_tab.next("removed", WAIT))["payload"] == {"participant": ana_id}
        assert (await _closed_with(ana_tab))[0] == CLOSE_REMOVED

        # The table: each note deleted in sequence, and Ana leaving.
        deleted = [await ben.until("note.deleted", WAIT) for _ in ids]
        assert sorted(d["payload"]["id"] for d in deleted) == sorted(ids)
        seqs = [d["seq"] for d in deleted]
        assert seqs == list(range(seqs[0], seqs[0] + 3)) and all(d["room"] == t1 for d in deleted)
        await _leaves(ben, t1, ana_id)
        fresh = (await ben.client.join_room(t1))["payload"]
        assert [n["id"] for n in fresh["notes"]] == [kept["id"]]
        assert [m["id"] for m in fresh["members"]] == [ben.id]
        db = live_server_fast.log_path.parent / "fast.db"
        assert await _notes_in_store(db, [*ids, kept["id"]]) == [kept["id"]]

        # The consoles: Ana without a seat, named as removed; no longer counted anywhere.
        while True:
            update = await fac.until("people.updated", WAIT)
            if update["payload"].get("removed"):
                break
        assert update["payload"]["removed"] == [ana_id]
        assert [(p["id"], p["room_id"]) for p in update["payload"]["people"]] == [(ana_id, None)]
        people = (await fac.request("console.watch", {}))["payload"]["people"]
        assert [p["id"] for p in people] == [ben.id]
        async with httpx.AsyncClient(base_url=url) as http:
            info = (await http.get(f"/api/events/{code}")).json()
            assert {r["id"]: r["members"] for r in info["rooms"]}[t1] == 1
            # The token is refused by HTTP too, saying why.
            r = await http.get(
                f"/api/events/{code}/report/notes.csv",
                headers={"Authorization": f"Bearer {ana_session.token}"},
            )
            assert r.status_code == 403
            assert r.json()["error"] == {
                "code": "forbidden",
                "message": "you were removed from this event",
            }

        # Reconnecting with the old token: refused, with the reason, and closed.
        refused = await refused_at_connect(ws, ana_session.token, CLOSE_REMOVED)
        assert refused["type"] == "error"
        assert refused["payload"]["code"] == "forbidden"
        assert "removed" in refused["payload"]["message"]

        # The public link still lets anyone in: a new participant, with a working token.
        again = await join(url, code, "Ana", room_id=t1)
        assert again.participant["id"] != ana_id
        back = await Client.open(ws, again)
        assert back.hello["payload"]["participant"]["id"] == again.participant["id"]
        await back.close()
    finally:
        for c in (fac.client, ana.client, ana_tab, ben.client):
            await c.close()


async def test_a_removed_screen_loses_its_report_and_notes_stay_unless_asked(
    live_server_fast: LiveServer,
) -> None:
    url, ws = live_server_fast.url, live_server_fast.ws_url
    fac_session = await create_event(url, "Screens", rooms=1)
    code = fac_session.event["join_code"]
    t1 = fac_session.rooms[0]["id"]
    fac = await Attendee.open(ws, fac_session, join_room=False)
    invite = (await fac.request("observer.invite", {}))["payload"]
    screen_session = Session(invite["token"], invite["participant"], fac_session.event, [])
    screen = await Client.open(ws, screen_session)
    host_session = await seat(url, code, "Hana", t1, "table_host")
    host = await Attendee.open(ws, host_session)
    report = f"/api/events/{code}/report/notes.csv"
    bearer = {"Authorization": f"Bearer {screen_session.token}"}
    try:
        note = (await host.client.post(t1, "typed for the table"))["payload"]["note"]
        async with httpx.AsyncClient(base_url=url) as http:
            assert (await http.get(report, headers=bearer)).status_code == 200
            ack = await fac.request(
                "people.remove", {"participant": screen_session.participant["id"]}
            )
            assert ack["payload"]["deleted_notes"] == 0
            assert (await _closed_with(screen))[0] == CLOSE_REMOVED
            r = await http.get(report, headers=bearer)
            assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"

        ack = await fac.request("people.remove", {"participant": host.id})
        assert ack["payload"] == {
            "participant": {**host_session.participant, "room_id": None},
            "deleted_notes": 0,
        }
        assert (await _closed_with(host.client))[0] == CLOSE_REMOVED
        # Not asked to: the table host's note stays on the wall.
        wall = await Client.open(ws, fac_session)
        notes = (await wall.join_room(t1))["payload"]["notes"]
        assert [n["id"] for n in notes] == [note["id"]]
        await wall.close()
    finally:
        for c in (fac.client, screen, host.client):
            await c.close()


async def test_removal_refusals_are_clear_and_change_nothing(
    live_server_fast: LiveServer,
) -> None:
    url, ws = live_server_fast.url, live_server_fast.ws_url
    fac_session = await create_event(url, "Refusals", rooms=2)
    other = await create_event(url, "Elsewhere", rooms=1)
    code = fac_session.event["join_code"]
    t1 = fac_session.rooms[0]["id"]
    fac = await Attendee.open(ws, fac_session, join_room=False)
    co = await Attendee.open(ws, await _co_facilitator(url, code, fac_session), join_room=False)
    ana = await Attendee.open(ws, await seat(url, code, "Ana", t1))
    ben = await Attendee.open(ws, await seat(url, code, "Ben", t1))
    hana = await Attendee.open(ws, await seat(url, code, "Hana", t1, "table_host"))
    invite = (await fac.request("observer.invite", {}))["payload"]
    screen_session = Session(invite["token"], invite["participant"], fac_session.event, [])
    screen = await Attendee.open(ws, screen_session, join_room=False)
    stranger = await join(url, other.event["join_code"], "Zed")
    try:
        for who in (ana, hana, screen):
            reply = await who.request("people.remove", {"participant": ben.id})
            assert reply["payload"]["code"] == "forbidden", reply
            assert reply["payload"]["message"]
        cases: list[tuple[dict[str, Any], str, str | None]] = [
            ({"participant": co.id}, "invalid", None),
            ({"participant": fac.id}, "invalid", None),
            ({"participant": "nobody"}, "not_found", None),
            ({"participant": stranger.participant["id"]}, "not_found", None),
            ({}, "invalid", "participant"),
            ({"participant": ""}, "invalid", "participant"),
            ({"participant": ben.id, "delete_notes": "yes"}, "invalid", "delete_notes"),
            ({"participant": ben.id, "forever": True}, "invalid", "forever"),
        ]
        for payload, expected, field in cases:
            reply = await fac.request("people.remove", payload)
            assert reply["type"] == "error", (payload, reply)
            assert reply["payload"]["code"] == expected, (payload, reply)
            assert reply["payload"]["message"]
            if field is not None:
                assert [d["field"] for d in reply["payload"]["details"]] == [field], reply
        # Nothing was removed: everyone is still seated and connected.
        people = (await fac.request("console.watch", {}))["payload"]["people"]
        assert {p["id"] for p in people} == {ana.id, ben.id, hana.id}
        assert (await ben.request("ping", {}))["type"] == "pong"

        assert (await fac.request("people.remove", {"participant": ben.id}))["type"] == "ack"
        twice = await co.request("people.remove", {"participant": ben.id})
        assert twice["payload"]["code"] == "conflict", twice
        assert "already removed" in twice["payload"]["message"]
        moved = await fac.request("people.move", {"participant": ben.id, "room": t1})
        assert moved["payload"]["code"] == "not_found", moved
        assert (await fac.request("ping", {}))["type"] == "pong"  # still open
    finally:
        for p in (fac, co, ana, ben, hana, screen):
            await p.close()


async def _co_facilitator(url: str, code: str, fac: Session) -> Session:
    async with httpx.AsyncClient(base_url=url) as http:
        r = await http.post(
            f"/api/events/{code}/facilitate", json={"secret": fac.secret, "pseudonym": "Gil"}
        )
        r.raise_for_status()
        d = r.json()
        return Session(d["token"], d["participant"], d["event"], d["rooms"])


@pytest.mark.postgres
@pytest.mark.redis
async def test_a_removal_on_one_process_closes_the_person_on_another(
    two_processes: tuple[LiveServer, LiveServer],
) -> None:
    one, two = two_processes
    fac_session = await create_event(one.url, "Two halls", rooms=2)
    code = fac_session.event["join_code"]
    t1 = fac_session.rooms[0]["id"]
    fac = await Attendee.open(one.ws_url, fac_session, join_room=False)
    ana_session = await seat(one.url, code, "Ana", t1)
    ana_id = ana_session.participant["id"]
    # On the other process; one socket at her table, one that asked for nothing at all.
    ana = await Attendee.open(two.ws_url, ana_session)
    ana_bare = await Client.open(two.ws_url, ana_session)
    ben = await Attendee.open(two.ws_url, await seat(one.url, code, "Ben", t1))
    try:
        note = (await ana.client.post(t1, "to go"))["payload"]["note"]
        ack = await fac.request("people.remove", {"participant": ana_id, "delete_notes": True})
        assert ack["type"] == "ack" and ack["payload"]["deleted_notes"] == 1, ack
        assert (await ana.until("removed", WAIT))["payload"] == {"participant": ana_id}
        assert (await _closed_with(ana.client))[0] == CLOSE_REMOVED
        assert (await ana_bare.next("removed", WAIT))["payload"] == {"participant": ana_id}
        assert (await _closed_with(ana_bare))[0] == CLOSE_REMOVED
        assert (await ben.until("note.deleted", WAIT))["payload"] == {"id": note["id"]}
        await _leaves(ben, t1, ana_id)
        for server in (one, two):
            refused = await refused_at_connect(server.ws_url, ana_session.token, CLOSE_REMOVED)
            assert refused["payload"]["code"] == "forbidden"
    finally:
        for c in (fac.client, ana.client, ana_bare, ben.client):
            await c.close()
