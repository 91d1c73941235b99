"""Facilitators' consoles may take each re-clustering as a diff: over a real server, what
they rebuild is the snapshot a console taking snapshots gets, version for version."""

from __future__ import annotations

from tests.client import Client, create_event, join
from tests.conftest import LiveServer
from tests.theme_follower import ThemeFollower, normalised, until_covered
from tests.topics import BIKES, MEALS, TREES


async def test_a_console_taking_diffs_holds_what_snapshots_say(
    live_server_fast: LiveServer,
) -> None:
    fac_s = await create_event(live_server_fast.url, rooms=2)
    code = fac_s.event["join_code"]
    rooms = [r["id"] for r in fac_s.rooms]
    people = [
        await Client.open(
            live_server_fast.ws_url, await join(live_server_fast.url, code, name, room)
        )
        for name, room in (("Ana", rooms[0]), ("Cat", rooms[1]))
    ]
    whole = await Client.open(live_server_fast.ws_url, fac_s)
    follower = ThemeFollower(await Client.open(live_server_fast.ws_url, fac_s))
    try:
        await whole.request("themes.watch", {})
        assert (await follower.watch())["type"] == "ack"
        ids: set[str] = set()
        compared = 0
        for batch in (BIKES, MEALS, TREES, [f"{t}, again" for t in BIKES[:4]]):
            for i, text in enumerate(batch):
                who = people[i % 2]
                reply = await who.post(who.session.room_id, text)
                ids.add(reply["payload"]["note"]["id"])
            snap = await until_covered(whole, ids)
            held = await follower.until(snap["version"])
            assert held["version"] == snap["version"]
            assert normalised(held) == normalised(snap)
            compared += 1
        assert follower.diffs >= compared - 1, "updates after the first came whole"
        assert follower.resyncs == 0

        # Asking again brings the latest snapshot itself.
        await follower.watch()
        again = (await follower.client.next("themes.snapshot"))["payload"]
        assert normalised(again) == normalised(follower.held or {})
        print(f"{compared} updates compared, {follower.diffs} as diffs")
    finally:
        for c in (*people, whole, follower.client):
            await c.close()


async def test_a_diff_from_a_version_the_console_missed_makes_it_ask_again(
    live_server_fast: LiveServer,
) -> None:
    fac_s = await create_event(live_server_fast.url, rooms=1)
    code = fac_s.event["join_code"]
    ana = await Client.open(
        live_server_fast.ws_url, await join(live_server_fast.url, code, "Ana", fac_s.rooms[0]["id"])
    )
    whole = await Client.open(live_server_fast.ws_url, fac_s)
    follower = ThemeFollower(await Client.open(live_server_fast.ws_url, fac_s))
    try:
        await whole.request("themes.watch", {})
        await follower.watch()
        ids = {(await ana.post(ana.session.room_id, t))["payload"]["note"]["id"] for t in BIKES}
        first = await until_covered(whole, ids)
        await follower.until(first["version"])
        # The console lost a version: it holds something older than any diff's base.
        assert follower.held is not None
        follower.held = {**follower.held, "version": first["version"] - 1}
        for text in MEALS:
            ids.add((await ana.post(ana.session.room_id, text))["payload"]["note"]["id"])
        snap = await until_covered(whole, ids)
        held = await follower.until(snap["version"])
        assert follower.resyncs >= 1
        assert normalised(held) == normalised(snap)
    finally:
        for c in (ana, whole, follower.client):
            await c.close()
