"""Themes reach the facilitator over the wire as notes arrive, and keep their ids."""

from __future__ import annotations

import asyncio

from tests.client import Client, create_event, join
from tests.conftest import LiveServer
from tests.frozen_clients import freeze
from tests.theme_follower import covered, until_covered
from tests.topics import BIKES, MEALS


async def test_themes_follow_notes_across_rooms_and_keep_their_ids(
    live_server_fast: LiveServer,
) -> None:
    fac_s = await create_event(live_server_fast.url, rooms=2)
    code = fac_s.event["join_code"]
    r1, r2 = fac_s.rooms[0]["id"], fac_s.rooms[1]["id"]
    ana = await Client.open(
        live_server_fast.ws_url, await join(live_server_fast.url, code, "Ana", r1)
    )
    cat = await Client.open(
        live_server_fast.ws_url, await join(live_server_fast.url, code, "Cat", r2)
    )
    fac = await Client.open(live_server_fast.ws_url, fac_s)
    try:
        assert (await fac.request("themes.watch", {}))["type"] == "ack"
        ids: set[str] = set()
        for i, text in enumerate(BIKES + MEALS):
            who, room = (ana, r1) if i % 2 == 0 else (cat, r2)
            ids.add((await who.post(room, text))["payload"]["note"]["id"])
        first = await until_covered(fac, ids)
        assert len(first["themes"]) >= 2
        labels = " ".join(t["label"] for t in first["themes"])
        assert "bike" in labels and ("school" in labels or "meals" in labels)
        for theme in first["themes"]:
            assert theme["size"] == len(theme["note_ids"])
            assert 1 <= len(theme["representatives"]) <= 3
            assert {r["id"] for r in theme["rooms"]} <= {r1, r2}
        # Both rooms raised both topics: provenance says so.
        assert any(len(t["rooms"]) == 2 for t in first["themes"])

        before = {t["label"]: t["id"] for t in first["themes"]}
        ids.add((await ana.post(r1, "bike lanes with trees alongside"))["payload"]["note"]["id"])
        later = await until_covered(fac, ids)
        after = {t["label"]: t["id"] for t in later["themes"]}
        kept = set(before.values()) & set(after.values())
        assert kept, (before, after)
        assert later["version"] > first["version"]

        # A facilitator who connects later gets the current themes at once.
        fac2 = await Client.open(live_server_fast.ws_url, fac_s)
        await fac2.request("themes.watch", {})
        snap = (await fac2.next("themes.snapshot"))["payload"]
        assert covered(snap, ids)
        await fac2.close()
    finally:
        for c in (ana, cat, fac):
            await c.close()


async def test_a_connection_dropped_without_a_close_leaves_presence(
    live_server_fast: LiveServer,
) -> None:
    fac_s = await create_event(live_server_fast.url, rooms=1)
    code = fac_s.event["join_code"]
    room = fac_s.rooms[0]["id"]
    ana = await Client.open(
        live_server_fast.ws_url, await join(live_server_fast.url, code, "Ana", room)
    )
    ghost_s = await join(live_server_fast.url, code, "Ghost", room)
    try:
        await ana.join_room(room)
        # A phone that lost its network: the socket stays open and answers nothing.
        frozen = await asyncio.to_thread(
            freeze, [{"ws_url": live_server_fast.ws_url, "token": ghost_s.token, "room": room}]
        )
        ghost_id = ghost_s.participant["id"]
        try:
            joins = (await ana.next("presence.diff"))["payload"]["joins"]
            while ghost_id not in [m["id"] for m in joins]:
                joins = (await ana.next("presence.diff"))["payload"]["joins"]
            # The server pings every 2 s here and gives up after another 2 s without a pong.
            left = await ana.next("presence.diff", timeout=8)
            assert [m["id"] for m in left["payload"]["leaves"]] == [ghost_id]
        finally:
            frozen.kill()
            frozen.wait()
        again = await ana.join_room(room)
        assert [m["id"] for m in again["payload"]["members"]] == [ana.session.participant["id"]]
    finally:
        await ana.close()
