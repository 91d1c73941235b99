"""An open space over the wire: topics proposed, accepted ones become rooms, people move freely."""

from __future__ import annotations

import asyncio

from tests.client import create_event
from tests.conftest import LiveServer
from tests.event_client import Attendee, seat


async def test_an_open_space_session(live_server_fast: LiveServer) -> None:
    url, ws = live_server_fast.url, live_server_fast.ws_url
    fac_session = await create_event(url, "Open space", rooms=["Plaza"], capacity=30)
    code = fac_session.event["join_code"]
    plaza = fac_session.rooms[0]["id"]
    fac = await Attendee.open(ws, fac_session, join_room=False)
    people = [await Attendee.open(ws, await seat(url, code, n)) for n in "ABCDEF"]
    host = await Attendee.open(ws, await seat(url, code, "Hana", plaza, "table_host"))
    a, b, c, d, e, f = people
    try:
        await fac.request("console.watch", {})
        steps = (await fac.request("agenda.load", {"template": "open_space"}))["payload"]
        by_title = {s["title"]: s["id"] for s in steps["agenda"]["steps"]}

        # Before the marketplace nobody proposes, and nobody changes table on their own.
        early = await a.request("topic.propose", {"title": "Too early"})
        assert early["payload"]["code"] == "closed"
        assert (await a.request("seat.choose", {"room": plaza}))["payload"]["code"] == "closed"

        await fac.request("step.start", {"step": by_title["Marketplace"]})
        proposed = {}
        for who, title in ((a, "Bike lanes"), (b, "School meals"), (c, "Night buses")):
            reply = await who.request("topic.propose", {"title": title})
            assert reply["type"] == "ack", reply
            proposed[title] = reply["payload"]["topic"]
            assert proposed[title]["status"] == "proposed"
        seen = await fac.until("topics.updated")
        assert seen["payload"]["topics"][0]["title"] == "Bike lanes"
        # Only facilitators decide.
        denied = await a.request(
            "topic.decide", {"topic": proposed["Bike lanes"]["id"], "accept": True}
        )
        assert denied["payload"]["code"] == "forbidden"

        rooms = {}
        for title, accept in (("Bike lanes", True), ("School meals", True), ("Night buses", False)):
            reply = await fac.request(
                "topic.decide", {"topic": proposed[title]["id"], "accept": accept, "capacity": 3}
            )
            assert reply["payload"]["topic"]["status"] == ("accepted" if accept else "declined")
            if accept:
                rooms[title] = reply["payload"]["room"]["id"]
                assert reply["payload"]["room"]["name"] == title
        again = await fac.request(
            "topic.decide", {"topic": proposed["Bike lanes"]["id"], "accept": False}
        )
        assert again["payload"]["code"] == "conflict"
        bikes, meals = rooms["Bike lanes"], rooms["School meals"]
        # Conveners go to their topic's room.
        await a.until("moved")
        await b.until("moved")
        assert (a.room, b.room, c.room) == (bikes, meals, plaza)
        names: set[str] = set()
        while names != {"Plaza", "Bike lanes", "School meals"}:
            names = {r["name"] for r in (await d.until("rooms.updated"))["payload"]["rooms"]}

        await fac.request("step.start", {"step": by_title["Session 1"]})
        await asyncio.gather(*(p.until_step(by_title["Session 1"]) for p in people))
        assert d.agenda["free_seating"] is True
        for who, room in ((d, bikes), (e, bikes), (f, meals)):
            reply = await who.request("seat.choose", {"room": room})
            assert reply["payload"]["participant"]["room_id"] == room
            await who.until("moved", reason="chosen")
            await who.follow_move()
        # Three seats at the bike lanes: the fourth person is told it is full.
        full = await c.request("seat.choose", {"room": bikes})
        assert full["payload"]["code"] == "room_full"
        # Hosts stay put even in an open space.
        stays = await host.request("seat.choose", {"room": meals})
        assert stays["payload"]["code"] == "forbidden"

        first = (await d.client.post(bikes, "Protected lanes on the ring road"))["payload"]["note"]
        # The law of two feet: D moves to school meals and writes there.
        assert (await d.request("seat.choose", {"room": meals}))["type"] == "ack"
        await d.until("moved", reason="chosen")
        await d.follow_move()
        second = (await d.client.post(meals, "Cook on site every day"))["payload"]["note"]
        assert (await c.request("seat.choose", {"room": bikes}))["type"] == "ack"

        walls = {r: (await fac.client.join_room(r))["payload"]["notes"] for r in (bikes, meals)}
        assert [n["id"] for n in walls[bikes]] == [first["id"]]
        assert [n["id"] for n in walls[meals]] == [second["id"]]
        assert {n["step_id"] for n in walls[bikes] + walls[meals]} == {by_title["Session 1"]}

        # Back in plenary, seats are fixed again.
        await fac.request("step.start", {"step": by_title["Closing circle"]})
        await e.until_step(by_title["Closing circle"])
        assert (await e.request("seat.choose", {"room": plaza}))["payload"]["code"] == "closed"
    finally:
        await asyncio.gather(*(p.close() for p in [*people, host, fac]), return_exceptions=True)
