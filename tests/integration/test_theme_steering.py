"""Facilitators steer themes over the wire while notes keep arriving; the edits hold."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.client import Client, create_event, join
from tests.conftest import LiveServer
from tests.topics import BIKES, MEALS, TREES

LATER = [
    "wider bike lanes on the bridge",
    "bike lanes painted green",
    "school meals without plastic",
    "school meals for teachers too",
    "street trees near the station",
    "street trees along the river",
]


def _ids(snapshot: dict[str, Any]) -> set[str]:
    seen = {n for t in snapshot["themes"] for n in t["note_ids"]}
    return seen | {u["id"] for u in snapshot["unthemed"]}


async def _until(fac: Client, ok: Any, timeout: float = 30) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            snap = (await fac.next("themes.snapshot", timeout=timeout))["payload"]
            if ok(snap):
                return snap


def _theme_with(snapshot: dict[str, Any], note_id: str) -> dict[str, Any]:
    return next(t for t in snapshot["themes"] if note_id in t["note_ids"])


async def test_renames_and_merges_hold_while_notes_keep_arriving(
    live_server_fast: LiveServer,
) -> None:
    url = live_server_fast.url
    fac_s = await create_event(url, rooms=2)
    code = fac_s.event["join_code"]
    r1, r2 = fac_s.rooms[0]["id"], fac_s.rooms[1]["id"]
    ana = await Client.open(live_server_fast.ws_url, await join(url, code, "Ana", r1))
    cat = await Client.open(live_server_fast.ws_url, await join(url, code, "Cat", r2))
    fac = await Client.open(live_server_fast.ws_url, fac_s)
    try:
        assert (await fac.request("themes.watch", {}))["type"] == "ack"
        posted: dict[str, str] = {}
        for i, text in enumerate(
            [x for group in zip(BIKES, MEALS, TREES, strict=True) for x in group]
        ):
            who, room = (ana, r1) if i % 2 == 0 else (cat, r2)
            posted[text] = (await who.post(room, text))["payload"]["note"]["id"]
        first = await _until(
            fac, lambda s: set(posted.values()) <= _ids(s) and len(s["themes"]) >= 3
        )
        bikes = _theme_with(first, posted[BIKES[0]])
        meals = _theme_with(first, posted[MEALS[0]])
        trees = _theme_with(first, posted[TREES[0]])
        assert len({bikes["id"], meals["id"], trees["id"]}) == 3

        # A participant may not steer.
        denied = await ana.request("themes.rename", {"theme": bikes["id"], "label": "Mine"})
        assert denied["type"] == "error" and denied["payload"]["code"] == "forbidden"
        missing = await fac.request("themes.rename", {"theme": "t-nothing", "label": "X"})
        assert missing["payload"]["code"] == "not_found"

        async def keep_posting() -> list[str]:
            ids = []
            for i, text in enumerate(LATER):
                who, room = (ana, r1) if i % 2 == 0 else (cat, r2)
                ids.append((await who.post(room, text))["payload"]["note"]["id"])
                await asyncio.sleep(0.1)
            return ids

        stream = asyncio.create_task(keep_posting())
        renamed = await fac.request("themes.rename", {"theme": bikes["id"], "label": "Cycling"})
        assert renamed["type"] == "ack", renamed
        merged = await fac.request("themes.merge", {"theme": trees["id"], "into": meals["id"]})
        assert merged["type"] == "ack", merged
        later_ids = await stream

        every = set(posted.values()) | set(later_ids)

        def settled(s: dict[str, Any]) -> bool:
            return every <= _ids(s) and all(t["id"] != trees["id"] for t in s["themes"])

        last = await _until(fac, settled)
        # Two more re-clusterings, triggered by more notes: the edits still hold.
        for text in ("bike lanes at night", "school meals at weekends"):
            note_id = (await ana.post(r1, text))["payload"]["note"]["id"]
            every.add(note_id)
            last = await _until(fac, lambda s: every <= _ids(s))
        by_id = {t["id"]: t for t in last["themes"]}
        assert by_id[bikes["id"]]["label"] == "Cycling" and by_id[bikes["id"]]["renamed"]
        assert trees["id"] not in by_id
        kept = set(by_id[meals["id"]]["note_ids"])
        assert {posted[t] for t in TREES} <= kept and {posted[t] for t in MEALS} <= kept
    finally:
        for client in (ana, cat, fac):
            await client.close()


async def test_a_new_note_is_placed_at_once_and_its_twin_is_offered(
    live_server_fast: LiveServer,
) -> None:
    url = live_server_fast.url
    fac_s = await create_event(url, rooms=1)
    code = fac_s.event["join_code"]
    r1 = fac_s.rooms[0]["id"]
    ana = await Client.open(live_server_fast.ws_url, await join(url, code, "Ana", r1))
    fac = await Client.open(live_server_fast.ws_url, fac_s)
    try:
        assert (await fac.request("themes.watch", {}))["type"] == "ack"
        ids = {(await ana.post(r1, text))["payload"]["note"]["id"] for text in BIKES + MEALS}
        await _until(fac, lambda s: ids <= _ids(s) and len(s["themes"]) >= 2)

        reply = await ana.post(r1, "more bike lanes on main street")
        assert reply["type"] == "ack"
        note_id = reply["payload"]["note"]["id"]
        hint = await ana.next("note.similar", timeout=10)
        assert hint["payload"]["note"] == note_id
        assert hint["payload"]["similar"][0]["text"] == "more bike lanes on main street"
        assert hint["payload"]["similar"][0]["same_room"] is True
        placed = await fac.next("themes.assigned", timeout=10)
        assert placed["payload"]["note"] == note_id and placed["payload"]["theme"]
        assert placed["payload"]["room_id"] == r1
        assert placed["payload"]["step_id"] is None, "no step runs"
    finally:
        for client in (ana, fac):
            await client.close()


async def test_hide_split_and_move_are_stored_and_obeyed(live_server_fast: LiveServer) -> None:
    url = live_server_fast.url
    fac_s = await create_event(url, rooms=1)
    code = fac_s.event["join_code"]
    r1 = fac_s.rooms[0]["id"]
    ana = await Client.open(live_server_fast.ws_url, await join(url, code, "Ana", r1))
    fac = await Client.open(live_server_fast.ws_url, fac_s)
    try:
        assert (await fac.request("themes.watch", {}))["type"] == "ack"
        posted = {t: (await ana.post(r1, t))["payload"]["note"]["id"] for t in BIKES + MEALS}
        first = await _until(
            fac, lambda s: set(posted.values()) <= _ids(s) and len(s["themes"]) >= 2
        )
        bikes = _theme_with(first, posted[BIKES[0]])
        meals = _theme_with(first, posted[MEALS[0]])
        assert (await fac.request("themes.hide", {"theme": meals["id"]}))["type"] == "ack"
        moved = posted[BIKES[1]]
        reply = await fac.request("themes.move", {"note": moved, "theme": None})
        assert reply["type"] == "ack"
        reply = await fac.request("themes.split", {"theme": bikes["id"]})
        assert reply["type"] == "ack", reply

        def done(s: dict[str, Any]) -> bool:
            ids = {t["id"]: t for t in s["themes"]}
            return (
                meals["id"] in ids
                and ids[meals["id"]]["hidden"]
                and moved in {u["id"] for u in s["unthemed"]}
                and any(t["split_from"] == bikes["id"] for t in s["themes"])
            )

        await _until(fac, done)
    finally:
        for client in (ana, fac):
            await client.close()
