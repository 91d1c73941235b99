"""The protocol over the real wire: a real uvicorn on a free port, `websockets` clients."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.client import Client, Session, create_event, join
from tests.conftest import LiveServer


async def _event_with(
    server: LiveServer, *names: str, rooms: int = 2
) -> tuple[Session, list[Session]]:
    fac = await create_event(server.url, rooms=rooms)
    code = fac.event["join_code"]
    first_room = fac.rooms[0]["id"]
    people = [await join(server.url, code, n, room_id=first_room) for n in names]
    return fac, people


async def _notes_in(client: Client, room: str) -> list[str]:
    joined = await client.join_room(room)
    return [n["text"] for n in joined["payload"]["notes"]]


async def test_room_members_see_the_same_notes_in_the_same_order(
    live_server_fast: LiveServer,
) -> None:
    _, (ana, ben) = await _event_with(live_server_fast, "Ana", "Ben")
    room = ana.room_id
    a = await Client.open(live_server_fast.ws_url, ana)
    b = await Client.open(live_server_fast.ws_url, ben)
    try:
        await a.join_room(room)
        await b.join_room(room)

        async def post_many(client: Client, who: str) -> None:
            for i in range(10):
                reply = await client.post(room, f"{who} idea {i}")
                assert reply["type"] == "ack"

        await asyncio.gather(post_many(a, "ana"), post_many(b, "ben"))

        async def added(client: Client) -> list[tuple[int, str]]:
            seen = []
            while len(seen) < 20:
                frame = await client.next("note.added")
                seen.append((frame["seq"], frame["payload"]["note"]["text"]))
            return seen

        seen_a, seen_b = await asyncio.gather(added(a), added(b))
        assert seen_a == seen_b
        assert [s for s, _ in seen_a] == list(range(1, 21))
    finally:
        await a.close()
        await b.close()


async def test_other_rooms_see_nothing_and_the_facilitator_sees_all(
    live_server_fast: LiveServer,
) -> None:
    fac = await create_event(live_server_fast.url, rooms=2)
    code = fac.event["join_code"]
    r1, r2 = fac.rooms[0]["id"], fac.rooms[1]["id"]
    ana = await join(live_server_fast.url, code, "Ana", room_id=r1)
    cat = await join(live_server_fast.url, code, "Cat", room_id=r2)
    a = await Client.open(live_server_fast.ws_url, ana)
    c = await Client.open(live_server_fast.ws_url, cat)
    f = await Client.open(live_server_fast.ws_url, fac)
    try:
        await a.join_room(r1)
        await c.join_room(r2)
        await f.join_room(r1)
        await f.join_room(r2)
        await a.post(r1, "Room one note")
        await c.post(r2, "Room two note")
        got = {(await f.next("note.added"))["payload"]["note"]["text"] for _ in range(2)}
        assert got == {"Room one note", "Room two note"}
        only_mine = await c.next("note.added")
        assert only_mine["payload"]["note"]["text"] == "Room two note"
        with pytest.raises(TimeoutError):
            await c.next("note.added", timeout=0.5)
        # A participant cannot even subscribe to another table.
        refused = await c.join_room(r1)
        assert refused["type"] == "error"
        assert refused["payload"]["code"] == "not_member"
    finally:
        for cl in (a, c, f):
            await cl.close()


async def test_reconnect_with_last_seq_gets_exactly_the_missed_notes(
    live_server_fast: LiveServer,
) -> None:
    _, (ana, ben) = await _event_with(live_server_fast, "Ana", "Ben")
    room = ana.room_id
    a = await Client.open(live_server_fast.ws_url, ana)
    b = await Client.open(live_server_fast.ws_url, ben)
    await a.join_room(room)
    joined = await b.join_room(room)
    epoch = joined["payload"]["epoch"]
    await a.post(room, "before the drop")
    last = (await b.next("note.added"))["seq"]
    await b.close()
    missed_texts = [f"while away {i}" for i in range(7)]
    for text in missed_texts:
        await a.post(room, text)
    b2 = await Client.open(live_server_fast.ws_url, ben)
    try:
        again = await b2.join_room(room, since={"seq": last, "epoch": epoch})
        p = again["payload"]
        assert p["recovered"] is True
        assert p["notes"] is None
        assert [m["payload"]["note"]["text"] for m in p["missed"]] == missed_texts
        assert [m["seq"] for m in p["missed"]] == list(range(last + 1, last + 8))
        assert p["seq"] == last + 7
        # And live diffs resume right after.
        await a.post(room, "after")
        frame = await b2.next("note.added")
        assert frame["seq"] == last + 8
    finally:
        await a.close()
        await b2.close()


async def test_a_wrong_epoch_gets_a_snapshot_not_recovered(live_server_fast: LiveServer) -> None:
    _, (ana,) = await _event_with(live_server_fast, "Ana")
    a = await Client.open(live_server_fast.ws_url, ana)
    try:
        await a.post(ana.room_id, "kept")
        joined = await a.join_room(ana.room_id, since={"seq": 0, "epoch": "e-unknown"})
        p = joined["payload"]
        assert p["recovered"] is False
        assert [n["text"] for n in p["notes"]] == ["kept"]
    finally:
        await a.close()


async def test_a_gap_older_than_the_kept_history_gets_a_snapshot(start_server: Any) -> None:
    # 61 requests in a row: over the default burst of 60 when posts are quick.
    server = start_server(
        name="short-history",
        TABLEE_HISTORY_PER_ROOM="10",
        TABLEE_WORKER="off",
        TABLEE_RATE_BURST="200",
    )
    _, (ana,) = await _event_with(server, "Ana")
    a = await Client.open(server.ws_url, ana)
    try:
        joined = await a.join_room(ana.room_id)
        epoch = joined["payload"]["epoch"]
        for i in range(60):
            await a.post(ana.room_id, f"note {i}")
        again = await a.join_room(ana.room_id, since={"seq": 1, "epoch": epoch})
        p = again["payload"]
        assert p["recovered"] is False
        assert len(p["notes"]) == 60
        assert p["seq"] == 60
    finally:
        await a.close()


async def test_a_retried_post_makes_one_note(live_server_fast: LiveServer) -> None:
    _, (ana, ben) = await _event_with(live_server_fast, "Ana", "Ben")
    a = await Client.open(live_server_fast.ws_url, ana)
    b = await Client.open(live_server_fast.ws_url, ben)
    try:
        await b.join_room(ana.room_id)
        note_id = str(uuid.uuid4())
        replies = [await a.post(ana.room_id, "Only once", note_id) for _ in range(3)]
        assert {r["type"] for r in replies} == {"ack"}
        assert {r["payload"]["seq"] for r in replies} == {replies[0]["payload"]["seq"]}
        await b.next("note.added")
        with pytest.raises(TimeoutError):
            await b.next("note.added", timeout=0.5)
        assert await _notes_in(b, ana.room_id) == ["Only once"]
        # The same id from someone else is a conflict, not a takeover.
        stolen = await b.post(ana.room_id, "Mine now", note_id)
        assert stolen["payload"]["code"] == "conflict"
    finally:
        await a.close()
        await b.close()


async def test_edit_delete_and_like_follow_the_rules(live_server_fast: LiveServer) -> None:
    fac, (ana, ben) = await _event_with(live_server_fast, "Ana", "Ben")
    room = ana.room_id
    a = await Client.open(live_server_fast.ws_url, ana)
    b = await Client.open(live_server_fast.ws_url, ben)
    f = await Client.open(live_server_fast.ws_url, fac)
    try:
        await b.join_room(room)
        note = (await a.post(room, "Draft"))["payload"]["note"]
        ref = {"room": room, "id": note["id"]}
        denied = await b.request("note.edit", {**ref, "text": "Hijacked"})
        assert denied["payload"]["code"] == "forbidden"
        ok = await a.request("note.edit", {**ref, "text": "Final"})
        assert ok["payload"]["note"]["text"] == "Final"
        for _ in range(2):  # one like per person, however often asked
            assert (await b.request("note.like", ref))["type"] == "ack"
        await a.request("note.like", ref)
        likes = [f for f in [await b.next("note.likes"), await b.next("note.likes")]]
        assert likes[-1]["payload"]["likes"] == [ben.participant["id"], ana.participant["id"]]
        await b.request("note.unlike", ref)
        assert (await b.next("note.likes"))["payload"]["likes"] == [ana.participant["id"]]
        assert (await b.request("note.delete", ref))["payload"]["code"] == "forbidden"
        assert (await f.request("note.delete", ref))["type"] == "ack"  # a facilitator may
        assert (await b.next("note.deleted"))["payload"]["id"] == note["id"]
        assert await _notes_in(b, room) == []
    finally:
        for cl in (a, b, f):
            await cl.close()


BAD_FRAMES: list[tuple[str, str]] = [
    ("{not json", "malformed"),
    ("[1, 2]", "malformed"),
    (json.dumps({"v": 1, "type": 5, "payload": {}}), "malformed"),
    (json.dumps({"v": 2, "type": "ping", "payload": {}}), "unsupported_version"),
    (json.dumps({"v": 1, "type": "note.shout", "payload": {}}), "unknown_type"),
    (json.dumps({"v": 1, "type": "note.post", "payload": {"text": "no room"}}), "invalid"),
    (
        json.dumps(
            {"v": 1, "type": "note.post", "payload": {"room": "r", "id": "not-a-uuid", "text": "x"}}
        ),
        "invalid",
    ),
]


async def test_bad_input_gets_an_error_and_writes_nothing(live_server_fast: LiveServer) -> None:
    fac = await create_event(live_server_fast.url, rooms=2)
    code = fac.event["join_code"]
    r1, r2 = fac.rooms[0]["id"], fac.rooms[1]["id"]
    ana = await join(live_server_fast.url, code, "Ana", room_id=r1)
    ben = await join(live_server_fast.url, code, "Ben", room_id=r1)
    a = await Client.open(live_server_fast.ws_url, ana)
    b = await Client.open(live_server_fast.ws_url, ben)
    try:
        await b.join_room(r1)
        for raw, expected in BAD_FRAMES:
            await a.send_raw(raw)
            err = await a.next("error")
            assert err["payload"]["code"] == expected, raw
            assert err["payload"]["message"]
        cases = [
            ("note.post", {"room": r1, "id": str(uuid.uuid4()), "text": "   "}, "invalid"),
            ("note.post", {"room": r1, "id": str(uuid.uuid4()), "text": "x" * 501}, "invalid"),
            (
                "note.post",
                {"room": r1, "id": str(uuid.uuid4()), "text": "hi", "extra": 1},
                "invalid",
            ),
            (
                "note.post",
                {"room": r2, "id": str(uuid.uuid4()), "text": "wrong room"},
                "not_member",
            ),
            (
                "note.post",
                {"room": "nope", "id": str(uuid.uuid4()), "text": "no room"},
                "not_found",
            ),
            ("room.create", {"name": "Mine"}, "forbidden"),
            ("themes.watch", {}, "forbidden"),
        ]
        for type_, payload, expected in cases:
            reply = await a.request(type_, payload)
            assert reply["type"] == "error", (type_, payload)
            assert reply["payload"]["code"] == expected, (type_, payload, reply)
        # 500 characters exactly is fine, after trimming.
        assert (await a.post(r1, "  " + "y" * 500 + "  "))["type"] == "ack"
        # The socket is still open and the room still works for everyone.
        assert (await a.request("ping", {}))["type"] == "pong"
        assert (await b.post(r1, "still serving"))["type"] == "ack"
        texts = await _notes_in(b, r1)
        assert texts == ["y" * 500, "still serving"]

        # A frame over 64 KiB: an error naming it, then close 1009.
        await a.send_raw(json.dumps({"v": 1, "type": "ping", "payload": {}, "pad": "z" * 70_000}))
        err = await a.next("error")
        assert err["payload"]["code"] == "too_big"
        code_, _ = await asyncio.wait_for(a.closed, 5)
        assert code_ == 1009
        assert (await b.post(r1, "after the big frame"))["type"] == "ack"
    finally:
        await a.close()
        await b.close()


async def test_a_flood_is_limited_and_then_closed(start_server: Any) -> None:
    server = start_server(
        name="flood",
        TABLEE_WORKER="off",
        TABLEE_RATE_PER_SECOND="5",
        TABLEE_RATE_BURST="5",
        TABLEE_MAX_BAD_FRAMES="10",
    )
    _, (ana,) = await _event_with(server, "Ana")
    a = await Client.open(server.ws_url, ana)
    # One write: the server reads the flood before it has answered any of it, and must still
    # answer the requests it accepted before closing.
    a.send_burst([json.dumps({"v": 1, "type": "ping", "payload": {}})] * 40)
    codes = []
    while True:
        try:
            frame = await a.next(timeout=1)
        except TimeoutError:
            break
        codes.append(frame["type"] if frame["type"] != "error" else frame["payload"]["code"])
    assert codes.count("pong") >= 5
    assert "rate_limited" in codes
    close_code, _ = await asyncio.wait_for(a.closed, 5)
    assert close_code == 1008
    await a.close()


async def test_bad_credentials_are_refused_before_the_socket_opens(
    live_server_fast: LiveServer,
) -> None:
    fac = await create_event(live_server_fast.url)
    forged = fac.token[:-4] + ("AAAA" if not fac.token.endswith("AAAA") else "BBBB")
    for subprotocols in (["tablee.v1"], ["tablee.v1", "token." + forged], ["token." + fac.token]):
        with pytest.raises(InvalidStatus) as info:
            await connect(live_server_fast.ws_url, subprotocols=subprotocols)  # type: ignore[arg-type]
        assert info.value.response.status_code == 403
    # A page from another site may not open a socket with a visitor's token.
    with pytest.raises(InvalidStatus):
        await connect(
            live_server_fast.ws_url,
            subprotocols=["tablee.v1", "token." + fac.token],  # type: ignore[list-item]
            origin="https://evil.example",  # type: ignore[arg-type]
        )
    ok = await connect(
        live_server_fast.ws_url,
        subprotocols=["tablee.v1", "token." + fac.token],  # type: ignore[list-item]
        origin=live_server_fast.url,  # type: ignore[arg-type]
    )
    assert ok.subprotocol == "tablee.v1"
    await ok.close()


async def test_http_join_errors_are_clear(live_server_fast: LiveServer) -> None:
    fac = await create_event(live_server_fast.url, rooms=["Solo"])
    code = fac.event["join_code"]
    async with httpx.AsyncClient(base_url=live_server_fast.url) as http:
        r = await http.post("/api/events/ZZZZZZ/join", json={"pseudonym": "A"})
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        r = await http.post(f"/api/events/{code}/join", json={"pseudonym": "  "})
        assert r.status_code == 422
        r = await http.post(f"/api/events/{code}/join", content=b"{oops")
        assert r.status_code == 400
        r = await http.post(
            f"/api/events/{code}/join", json={"pseudonym": "A", "role": "facilitator"}
        )
        assert r.status_code == 403
        r = await http.post(f"/api/events/{code}/facilitate", json={"secret": "wrong"})
        assert r.status_code == 403
        r = await http.post(f"/api/events/{code}/facilitate", json={"secret": fac.secret})
        assert r.status_code == 200 and r.json()["participant"]["role"] == "facilitator"
        for i in range(8):
            r = await http.post(f"/api/events/{code}/join", json={"pseudonym": f"P{i}"})
            assert r.status_code == 200
        r = await http.post(f"/api/events/{code}/join", json={"pseudonym": "Late"})
        assert r.status_code == 409 and r.json()["error"]["code"] == "room_full"


async def test_a_frozen_client_does_not_stall_its_room(start_server: Any) -> None:
    server = start_server(
        name="frozen",
        TABLEE_WORKER="off",
        TABLEE_SEND_QUEUE_FRAMES="16",
        TABLEE_RATE_PER_SECOND="1000",
        TABLEE_RATE_BURST="1000",
    )
    _, (ana, ben, zed) = await _event_with(server, "Ana", "Ben", "Zed")
    room = ana.room_id
    a = await Client.open(server.ws_url, ana)
    b = await Client.open(server.ws_url, ben)
    # Zed joins, then never reads again: a raw socket with a tiny receive buffer.
    frozen = await connect(
        server.ws_url,
        subprotocols=["tablee.v1", "token." + zed.token],  # type: ignore[list-item]
        max_queue=1,
    )
    await frozen.send(json.dumps({"v": 1, "type": "room.join", "payload": {"room": room}}))
    await b.join_room(room)
    big = "n" * 480
    posts = 300
    for i in range(posts):
        assert (await a.post(room, f"{i} {big}"))["type"] == "ack"
    seqs = []
    while len(seqs) < posts:
        seqs.append((await b.next("note.added"))["seq"])
    assert seqs == list(range(1, posts + 1))
    async with httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.get("/healthz")).status_code == 200
    frozen.transport.abort()
    await a.close()
    await b.close()
