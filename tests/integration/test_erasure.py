"""Erasing an event over the real wire: refusals that erase nothing, then every row of every
table gone (read generically from the metadata, so a table added without its cascade fails
here), the other event untouched, every open page closed with 4410 on every process, the
texts gone from the SQLite file, and the old tokens refused cleanly everywhere."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from server.store.models import Base
from tests.client import Client, Session, create_event, refused_at_connect
from tests.conftest import LiveServer
from tests.event_client import Attendee, seat
from tests.topics import BIKES, MEALS

CLOSE_EVENT_DELETED = 4410
WAIT = 20.0  # seconds; two cores shared with other work

Dump = dict[str, list[dict[str, Any]]]


async def dump(url: str) -> Dump:
    """Every row of every table the store defines."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as c:
            return {
                t.name: [dict(r._mapping) for r in (await c.execute(select(t))).all()]
                for t in Base.metadata.sorted_tables
            }
    finally:
        await engine.dispose()


def ids_of(rows: Dump, event_id: str) -> set[str]:
    """The event's id and the ids of every row that names it: rooms, people, notes, steps…"""
    ids = {event_id}
    for table in rows.values():
        for row in table:
            if row.get("event_id") == event_id and isinstance(row.get("id"), str):
                ids.add(row["id"])
    return ids


def touching(rows: Dump, ids: set[str]) -> Dump:
    """Per table, the rows with any column holding one of `ids`."""
    return {
        name: [r for r in table if any(isinstance(v, str) and v in ids for v in r.values())]
        for name, table in rows.items()
    }


def assert_erased_and_kept(before: Dump, after: Dump, erased: str, kept: str) -> None:
    gone, stay = ids_of(before, erased), ids_of(before, kept)
    held = touching(before, gone)
    assert not [t for t, rows in held.items() if not rows], "the test left tables empty"
    left = {t: rows for t, rows in touching(after, gone).items() if rows}
    assert left == {}, f"rows of the erased event are left: {left}"
    kept_before, kept_after = touching(before, stay), touching(after, stay)
    for name in before:
        if name == "theme_snapshots":  # the other event's themes may be stored meanwhile
            missing = [r for r in kept_before[name] if r not in kept_after[name]]
            assert missing == [], name
        else:
            assert kept_after[name] == kept_before[name], name


async def _closed_with(client: Client) -> tuple[int | None, str]:
    return await asyncio.wait_for(asyncio.shield(client.closed), WAIT)


async def _told_and_closed(client: Client, event_id: str) -> None:
    frame = await client.next("event.deleted", WAIT)
    assert frame["payload"] == {"event": event_id}
    assert await _closed_with(client) == (CLOSE_EVENT_DELETED, "the event was deleted")


def _bearer(session: Session) -> dict[str, str]:
    return {"Authorization": f"Bearer {session.token}"}


async def _delete(
    http: httpx.AsyncClient, code: str, session: Session | None, body: Any = None
) -> httpx.Response:
    return await http.request(
        "DELETE",
        f"/api/events/{code}",
        headers=_bearer(session) if session is not None else {},
        content=json.dumps(body) if body is not None else None,
    )


async def _until_themes(fac: Client, note_ids: set[str]) -> dict[str, Any]:
    while True:
        snap = (await fac.next("themes.snapshot", timeout=WAIT))["payload"]
        covered = {n for t in snap["themes"] for n in t["note_ids"]}
        covered |= {u["id"] for u in snap["unthemed"]}
        if note_ids <= covered and snap["themes"]:
            return dict(snap)


async def _until_stored(url: str, table: str, event_id: str) -> None:
    for _ in range(int(WAIT / 0.2)):
        if [r for r in (await dump(url))[table] if r["event_id"] == event_id]:
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"nothing of {event_id} in {table}")


async def test_a_facilitator_erases_an_event_and_nothing_of_it_is_left(
    live_server_fast: LiveServer,
) -> None:
    url, ws = live_server_fast.url, live_server_fast.ws_url
    db = live_server_fast.log_path.parent / "fast.db"
    db_url = f"sqlite+aiosqlite:///{db}"
    log_from = live_server_fast.log_path.stat().st_size
    mark = "zq" + uuid.uuid4().hex[:8]  # in every text of the erased event, and nowhere else

    # The other event, alongside: a person, a note, a like; it must come out untouched.
    keep_session = await create_event(url, "Kept assembly", rooms=1)
    keep_code = keep_session.event["join_code"]
    kept_person = await seat(url, keep_code, "Kim", keep_session.rooms[0]["id"])
    kept = await Attendee.open(ws, kept_person)

    fac_session = await create_event(url, f"Jury {mark}", rooms=2)
    event_id = fac_session.event["id"]
    code = fac_session.event["join_code"]
    t1, t2 = (r["id"] for r in fac_session.rooms)
    fac = await Attendee.open(ws, fac_session, join_room=False)
    ana_session = await seat(url, code, f"Ana {mark}", t1)
    ana = await Attendee.open(ws, ana_session)
    ben = await Attendee.open(ws, await seat(url, code, f"Ben {mark}", t2))
    invite = (await fac.request("observer.invite", {}))["payload"]
    screen_session = Session(invite["token"], invite["participant"], fac_session.event, [])
    screen = await Client.open(ws, screen_session)
    everyone = [fac.client, ana.client, ben.client, screen, kept.client]
    try:
        note = (await kept.client.post(kept.room or "", "a note of the kept event"))["payload"]
        assert (await kept.request("note.like", {"room": kept.room, "id": note["note"]["id"]}))[
            "type"
        ] == "ack"

        # The erased event holds something in every table.
        assert (await fac.request("themes.watch", {}))["type"] == "ack"
        assert (await fac.request("console.watch", {}))["type"] == "ack"
        steps = [
            {"title": f"Round {mark}", "prompt": f"What matters? {mark}", "assign": "keep"},
            {"title": "Vote", "prompt": f"How concerned? {mark}", "choices": ["Very", "Not"]},
        ]
        agenda = (await fac.request("agenda.set", {"steps": steps}))["payload"]["agenda"]
        round_id, vote_id = (s["id"] for s in agenda["steps"])
        assert (await fac.request("step.start", {"step": round_id}))["type"] == "ack"
        moved = await fac.request("people.move", {"participant": ben.id, "room": t1})
        assert moved["type"] == "ack", moved  # a seat taken during a step: a seating row
        await ben.until("moved", WAIT)
        await ben.follow_move()
        posted: set[str] = set()
        for i, text in enumerate([x for pair in zip(BIKES, MEALS, strict=True) for x in pair]):
            who = ana if i % 2 == 0 else ben
            posted.add((await who.client.post(t1, f"{text} {mark}"))["payload"]["note"]["id"])
        first = next(iter(posted))
        assert (await ben.request("note.like", {"room": t1, "id": first}))["type"] == "ack"
        gone = (await ana.client.post(t1, f"deleted during the event {mark}"))["payload"]
        assert (await ana.request("note.delete", {"room": t1, "id": gone["note"]["id"]}))[
            "type"
        ] == "ack"
        themes = await _until_themes(fac.client, posted)
        renamed = {"theme": themes["themes"][0]["id"], "label": f"Cycling {mark}"}
        assert (await fac.request("themes.rename", renamed))["type"] == "ack"
        assert (await fac.request("broadcast.send", {"text": f"Five minutes {mark}"}))[
            "type"
        ] == "ack"
        assert (await ana.request("help.raise", {"room": t1, "text": f"A pen {mark}"}))[
            "type"
        ] == "ack"
        assert (await fac.request("topic.propose", {"title": f"Bikes {mark}"}))["type"] == "ack"
        on_screen = await fac.request("spotlight.set", {"note": first})  # its text is copied
        assert on_screen["type"] == "ack", on_screen
        assert (await fac.request("step.start", {"step": vote_id}))["type"] == "ack"
        for who, choice in ((ana, 0), (ben, 1)):
            answered = await who.request("answer.set", {"step": vote_id, "choice": choice})
            assert answered["type"] == "ack", answered
        await _until_stored(db_url, "theme_snapshots", event_id)
        before = await dump(db_url)

        async with httpx.AsyncClient(base_url=url) as http:
            # Refusals first: each erases nothing.
            for session, body, status, error in [
                (fac_session, {"confirm": "WRONG1"}, 422, "invalid"),
                (fac_session, None, 422, "invalid"),
                (fac_session, {"confirm": keep_code}, 422, "invalid"),
                (fac_session, {"confirm": code, "now": True}, 422, "invalid"),
                (ana_session, {"confirm": code}, 403, "forbidden"),
                (screen_session, {"confirm": code}, 403, "forbidden"),
                (keep_session, {"confirm": code}, 403, "forbidden"),
                (None, {"confirm": code}, 403, "forbidden"),
            ]:
                r = await _delete(http, code, session, body)
                assert r.status_code == status, (body, r.text)
                assert r.json()["error"]["code"] == error
                assert r.json()["error"]["message"]
            wrong = await _delete(http, code, fac_session, {"confirm": "WRONG1"})
            assert code in wrong.json()["error"]["message"]  # it says what to send
            assert (
                await _delete(http, "NOSUCH", fac_session, {"confirm": "NOSUCH"})
            ).status_code == 404
            unchanged = await dump(db_url)
            for name in before:  # the live themes alone may have moved on meanwhile
                assert name == "theme_snapshots" or unchanged[name] == before[name], name
            assert (await ana.request("ping", {}))["type"] == "pong"

            # The facilitator, with the code typed again (any case, as people type it).
            r = await _delete(http, code, fac_session, {"confirm": code.lower()})
            assert r.status_code == 200, r.text
            live_notes = len(posted) + 1  # and the one deleted during the event
            assert r.json() == {
                "deleted": {"notes": live_notes, "participants": 4, "rooms": 2, "answers": 2}
            }

            for client in (fac.client, ana.client, ben.client, screen):
                await _told_and_closed(client, event_id)
            after = await dump(db_url)
            assert_erased_and_kept(before, after, event_id, keep_session.event["id"])

            # Nothing answers for the event any more, and its tokens open nothing.
            assert (await http.get(f"/api/events/{code}")).status_code == 404
            joined = await http.post(f"/api/events/{code}/join", json={"pseudonym": "Zoe"})
            assert joined.status_code == 404
            secret = {"secret": fac_session.secret, "pseudonym": "Fac"}
            assert (
                await http.post(f"/api/events/{code}/facilitate", json=secret)
            ).status_code == 404
            for path in ("report/notes.csv", "report/themes.md", "report/answers.csv"):
                r = await http.get(f"/api/events/{code}/{path}", headers=_bearer(fac_session))
                assert r.status_code == 404, path
                r = await http.get(f"/api/events/{keep_code}/{path}", headers=_bearer(fac_session))
                assert r.status_code == 403, path
            r = await http.patch(
                f"/api/events/{keep_code}", json={"language": "fr"}, headers=_bearer(fac_session)
            )
            assert r.status_code == 403
            assert (await _delete(http, code, fac_session, {"confirm": code})).status_code == 404
            qr = await http.get(f"/api/events/{code}/rooms/{t1}/qr.svg")
            assert qr.status_code == 404
        for session in (fac_session, ana_session, screen_session):
            refused = await refused_at_connect(ws, session.token, CLOSE_EVENT_DELETED)
            assert refused["type"] == "error"
            assert refused["payload"] == {"code": "not_found", "message": "this event was deleted"}

        # The other event goes on.
        assert (await kept.request("ping", {}))["type"] == "pong"
        more = await kept.client.post(kept.room or "", "still here")
        assert more["type"] == "ack", more

        # No copy of a text is left in the database's files (SQLite's secure_delete and the
        # emptied write-ahead log), and none was ever written to the server's log.
        await asyncio.sleep(1.0)
        for path in (db, Path(f"{db}-wal")):
            if path.exists():
                assert mark.encode() not in path.read_bytes(), path
        log = live_server_fast.log_path.read_text(errors="replace")[log_from:]
        assert mark not in log
        assert "Traceback" not in log, log[-3000:]
        assert f"event {event_id} erased" in log
    finally:
        for c in everyone:
            await c.close()


@pytest.mark.postgres
@pytest.mark.redis
async def test_an_erasure_on_one_process_closes_the_event_on_another(
    two_processes: tuple[LiveServer, LiveServer], postgres_url: str
) -> None:
    one, two = two_processes
    keep_session = await create_event(one.url, "Kept", rooms=1)
    kept = await Attendee.open(
        two.ws_url, await seat(one.url, keep_session.event["join_code"], "Kim")
    )
    fac_session = await create_event(one.url, "Two halls", rooms=2)
    event_id, code = fac_session.event["id"], fac_session.event["join_code"]
    t1, t2 = (r["id"] for r in fac_session.rooms)
    fac = await Attendee.open(one.ws_url, fac_session, join_room=False)
    ana_session = await seat(one.url, code, "Ana", t1)
    ana = await Attendee.open(two.ws_url, ana_session)
    ana_bare = await Client.open(one.ws_url, ana_session)  # asked for nothing at all
    ben = await Attendee.open(one.ws_url, await seat(one.url, code, "Ben", t2))
    invite = (await fac.request("observer.invite", {}))["payload"]
    screen_session = Session(invite["token"], invite["participant"], fac_session.event, [])
    screen = await Client.open(two.ws_url, screen_session)
    redis = aioredis.from_url("redis://127.0.0.1:6379/0", decode_responses=True)
    try:
        await ana.client.post(t1, "a note")
        await ben.client.post(t2, "another")
        assert (await kept.client.post(kept.room or "", "kept note"))["type"] == "ack"
        assert await redis.exists(f"tablee:presence:{t1}")  # pseudonyms, while seated
        before = await dump(postgres_url)
        async with httpx.AsyncClient(base_url=two.url) as http:
            r = await _delete(http, code, fac_session, {"confirm": code})
        assert r.status_code == 200, r.text
        assert r.json()["deleted"] == {"notes": 2, "participants": 4, "rooms": 2, "answers": 0}
        for client in (fac.client, ana.client, ana_bare, ben.client, screen):
            await _told_and_closed(client, event_id)
        after = await dump(postgres_url)
        gone, stay = ids_of(before, event_id), ids_of(before, keep_session.event["id"])
        assert {t: r for t, r in touching(after, gone).items() if r} == {}
        assert touching(after, stay) == touching(before, stay)
        # The seats' presence entries went with the connections.
        for _ in range(int(WAIT / 0.1)):
            if not await redis.exists(f"tablee:presence:{t1}", f"tablee:presence:{t2}"):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("presence entries of the erased event's rooms are left")
        for server in (one, two):
            refused = await refused_at_connect(
                server.ws_url, ana_session.token, CLOSE_EVENT_DELETED
            )
            assert refused["payload"]["code"] == "not_found"
            async with httpx.AsyncClient(base_url=server.url) as http:
                assert (await http.get(f"/api/events/{code}")).status_code == 404
        assert (await kept.request("ping", {}))["type"] == "pong"
        for server in (one, two):
            assert "Traceback" not in server.log(), server.log()
    finally:
        await redis.aclose()
        for c in (fac.client, ana.client, ana_bare, ben.client, screen, kept.client):
            await c.close()
