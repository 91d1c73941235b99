"""Who may run what: every event message checked by role and room, over the real wire.

A command above one's role gets an error frame with a code and changes nothing; a room hears
only what is meant for it; observers watch and never write; bad credentials never connect.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from server.auth import TokenSigner
from tests.client import Client, Session, create_event
from tests.conftest import LiveServer
from tests.event_client import Attendee, seat


def staff_only(t1: str, t2: str, ana: str, ben: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("console.watch", {}),
        ("agenda.set", {"steps": []}),
        ("agenda.load", {"template": "world_cafe"}),
        ("step.start", {"step": "s"}),
        ("step.pause", {}),
        ("step.resume", {}),
        ("step.adjust", {"seconds": 60}),
        ("step.end", {}),
        ("seating.set", {"free": True}),
        ("broadcast.send", {"text": "Everyone to table 2"}),
        ("help.resolve", {"room": t1}),
        ("observer.invite", {}),
        ("people.move", {"participant": ben, "room": t1}),
        ("people.role", {"participant": ana, "role": "table_host"}),
        ("people.remove", {"participant": ben, "delete_notes": True}),
        ("rooms.assign", {"strategy": "random"}),
        ("topic.decide", {"topic": "t", "accept": True}),
        ("spotlight.set", {"room": t1}),
    ]


async def _state(fac: Attendee) -> tuple[int, dict[str, str]]:
    agenda = (await fac.request("event.watch", {}))["payload"]["agenda"]
    people = (await fac.request("console.watch", {}))["payload"]["people"]
    return agenda["version"], {p["id"]: p["room_id"] for p in people}


async def test_commands_above_ones_role_are_refused_and_change_nothing(
    live_server_fast: LiveServer,
) -> None:
    url, ws = live_server_fast.url, live_server_fast.ws_url
    fac_session = await create_event(url, "Roles", rooms=2)
    code = fac_session.event["join_code"]
    t1, t2 = (r["id"] for r in fac_session.rooms)
    fac = await Attendee.open(ws, fac_session, join_room=False)
    ana = await Attendee.open(ws, await seat(url, code, "Ana", t1))
    ben = await Attendee.open(ws, await seat(url, code, "Ben", t2))
    hana = await Attendee.open(ws, await seat(url, code, "Hana", t1, "table_host"))
    invite = (await fac.request("observer.invite", {}))["payload"]
    screen_session = Session(invite["token"], invite["participant"], fac_session.event, [])
    screen = await Attendee.open(ws, screen_session, join_room=False)
    try:
        await fac.request("agenda.load", {"template": "world_cafe"})
        before = await _state(fac)
        for who in (ana, hana, screen):
            for type_, payload in staff_only(t1, t2, ana.id, ben.id):
                reply = await who.request(type_, payload)
                assert reply["type"] == "error", (type_, reply)
                assert reply["payload"]["code"] == "forbidden", (type_, reply)
        assert await _state(fac) == before

        # Observers watch: any wall, the themes; they never write or call for help. (On a
        # socket of its own: the one above spent its allowance of refused frames.)
        await screen.close()
        screen = await Attendee.open(ws, screen_session, join_room=False)
        assert (await screen.client.join_room(t2))["type"] == "room.joined"
        assert (await screen.request("themes.watch", {}))["type"] == "ack"
        for type_, payload in (
            ("note.post", {"room": t1, "id": "5d3c2b1a-0000-4000-8000-000000000000", "text": "x"}),
            ("help.raise", {"room": t1}),
            ("topic.propose", {"title": "Mine"}),
            ("seat.choose", {"room": t2}),
        ):
            reply = await screen.request(type_, payload)
            assert reply["payload"]["code"] == "forbidden", (type_, reply)

        # A participant acts only at their own table.
        assert (await ana.request("help.raise", {"room": t2}))["payload"]["code"] == "not_member"
        assert (await ana.client.join_room(t2))["payload"]["code"] == "not_member"
        assert await _state(fac) == before
    finally:
        for p in (fac, ana, ben, hana, screen):
            await p.close()


async def test_help_and_broadcasts_reach_only_their_rooms(live_server_fast: LiveServer) -> None:
    url, ws = live_server_fast.url, live_server_fast.ws_url
    fac_session = await create_event(url, "Voices", rooms=2)
    code = fac_session.event["join_code"]
    t1, t2 = (r["id"] for r in fac_session.rooms)
    fac = await Attendee.open(ws, fac_session, join_room=False)
    ana = await Attendee.open(ws, await seat(url, code, "Ana", t1))
    ben = await Attendee.open(ws, await seat(url, code, "Ben", t2))
    try:
        await fac.request("console.watch", {})
        raised = await ana.request("help.raise", {"room": t1, "text": "Our notes vanished?"})
        assert raised["payload"]["help"]["by"]["id"] == ana.id
        flag = await fac.until("help.updated")
        assert flag["payload"]["room"] == t1 and flag["payload"]["help"]["text"]
        assert (await ana.until("help.updated"))["payload"]["help"] is not None
        snapshot = (await fac.request("console.watch", {}))["payload"]
        assert [h["room"] for h in snapshot["help"]] == [t1]
        # Still flagged for a console that reloads, until someone handles it.
        assert (await fac.request("help.resolve", {"room": t1}))["payload"]["resolved"] is True
        assert (await fac.until("help.updated"))["payload"]["help"] is None
        assert (await ana.until("help.updated"))["payload"]["help"] is None
        assert (await fac.request("console.watch", {}))["payload"]["help"] == []

        to_one = await fac.request("broadcast.send", {"text": "Five more minutes", "room": t1})
        assert to_one["payload"]["broadcast"]["room"] == t1
        assert (await ana.until("broadcast"))["payload"]["text"] == "Five more minutes"
        await fac.request("broadcast.send", {"text": "Coffee is ready"})
        assert (await ana.until("broadcast"))["payload"]["text"] == "Coffee is ready"
        heard = await ben.until("broadcast")
        assert heard["payload"]["text"] == "Coffee is ready"  # not the one for table 1
        # Nor anything else meant for table 1 or for the staff.
        assert not [f for f in ben.frames if f["type"] in ("help.updated", "people.updated")]
        # Someone who reconnects still sees what was said to them.
        again = (await ben.request("event.watch", {}))["payload"]["broadcasts"]
        assert [b["text"] for b in again] == ["Coffee is ready"]
    finally:
        for p in (fac, ana, ben):
            await p.close()


async def test_bad_event_messages_get_an_error_naming_the_problem(
    live_server_fast: LiveServer,
) -> None:
    url, ws = live_server_fast.url, live_server_fast.ws_url
    fac_session = await create_event(url, "Typos", rooms=2)
    other = await create_event(url, "Elsewhere", rooms=1)
    fac = await Attendee.open(ws, fac_session, join_room=False)
    ana_session = await seat(url, fac_session.event["join_code"], "Ana")
    here, there = fac_session.rooms[0]["id"], other.rooms[0]["id"]
    ana = ana_session.participant["id"]
    try:
        cases: list[tuple[str, dict[str, Any], str]] = [
            ("step.adjust", {"seconds": 0}, "invalid"),
            ("step.adjust", {"seconds": 60}, "conflict"),
            ("step.pause", {}, "conflict"),
            ("step.end", {}, "conflict"),
            ("step.start", {"step": "nope"}, "not_found"),
            ("broadcast.send", {"text": "   "}, "invalid"),
            ("broadcast.send", {"text": "x", "room": there}, "not_found"),
            ("rooms.assign", {"strategy": "chaos"}, "invalid"),
            ("agenda.load", {"template": "no_such_format"}, "not_found"),
            ("agenda.set", {"steps": [{"id": "unknown", "title": "X"}]}, "invalid"),
            ("agenda.set", {"steps": [{"title": "X", "mode": "party"}]}, "invalid"),
            ("agenda.set", {"steps": [{"title": "X", "duration": -5}]}, "invalid"),
            ("people.move", {"participant": "nobody", "room": here}, "not_found"),
            ("people.move", {"participant": ana, "room": there}, "not_found"),
            ("people.move", {"participant": fac.id, "room": here}, "invalid"),
            ("topic.decide", {"topic": "nope", "accept": True}, "not_found"),
            ("help.resolve", {"room": there}, "not_found"),
        ]  # fmt: skip
        for type_, payload, expected in cases:
            reply = await fac.request(type_, payload)
            assert reply["type"] == "error", (type_, payload, reply)
            assert reply["payload"]["code"] == expected, (type_, payload, reply)
            assert reply["payload"]["message"]
        assert (await fac.request("ping", {}))["type"] == "pong"  # still open
    finally:
        await fac.close()


async def test_observers_are_invited_not_self_appointed_and_bad_tokens_never_connect(
    live_server_fast: LiveServer,
) -> None:
    url, ws = live_server_fast.url, live_server_fast.ws_url
    fac_session = await create_event(url, "Screens", rooms=1)
    code = fac_session.event["join_code"]
    async with httpx.AsyncClient(base_url=url) as http:
        r = await http.post(f"/api/events/{code}/join", json={"pseudonym": "X", "role": "observer"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    # An expired token, properly signed with this server's key, is refused at the handshake.
    key = (live_server_fast.log_path.parent / "fast.db.secret").read_text().strip().encode()
    signer = TokenSigner(key, ttl_seconds=60)
    p = fac_session.participant
    expired = signer.issue(p["id"], fac_session.event["id"], "facilitator", time.time() - 3600)
    fresh = signer.issue(p["id"], fac_session.event["id"], "facilitator", time.time())
    with pytest.raises(InvalidStatus) as info:
        await connect(ws, subprotocols=["tablee.v1", "token." + expired])  # type: ignore[list-item]
    assert info.value.response.status_code == 403
    # A token naming a participant of another event is refused too.
    other = await create_event(url, "Other", rooms=1)
    crossed = signer.issue(p["id"], other.event["id"], "facilitator", time.time())
    with pytest.raises(InvalidStatus):
        await connect(ws, subprotocols=["tablee.v1", "token." + crossed])  # type: ignore[list-item]
    ok = await Client.open(ws, Session(fresh, p, fac_session.event, []))
    await ok.close()


async def test_a_seat_changed_elsewhere_is_read_again_before_refusing(
    live_server_fast: LiveServer,
) -> None:
    """A socket opened before a move (as on another server process) still joins its new room."""
    url, ws = live_server_fast.url, live_server_fast.ws_url
    fac_session = await create_event(url, "Refresh", rooms=2)
    code = fac_session.event["join_code"]
    t1, t2 = (r["id"] for r in fac_session.rooms)
    fac = await Attendee.open(ws, fac_session, join_room=False)
    ana_session = await seat(url, code, "Ana", t1)
    # Ana's socket has not followed the event: it hears no move, as on another process.
    stale = await Client.open(ws, ana_session)
    try:
        await fac.request("people.move", {"participant": ana_session.participant["id"], "room": t2})
        await asyncio.sleep(0.1)
        joined = await stale.join_room(t2)
        assert joined["type"] == "room.joined", joined
    finally:
        await stale.close()
        await fac.close()
