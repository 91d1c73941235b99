"""The language of an event's participant pages over a real server: chosen at creation (or by
`tablee serve --create-event`), changed by its facilitators only, and heard at once by every
connection of the event, on every server process."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.cli import _announce_event, build_parser
from server.migrate import upgrade_async
from server.rooms import normalise_join_code
from server.settings import load_settings
from server.store import Store
from tests.client import Client, Session, create_event, join
from tests.conftest import LiveServer


def _events_in(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        (count,) = conn.execute("SELECT count(*) FROM events").fetchone()
    return int(count)


async def test_an_event_speaks_the_language_it_was_created_in_and_no_other(
    start_server: Any, tmp_path: Path
) -> None:
    server: LiveServer = start_server(name="lang", TABLEE_WORKER="off")
    db = tmp_path / "lang.db"  # where `start_server` puts a server's SQLite file
    async with httpx.AsyncClient(base_url=server.url) as http:
        made = await http.post("/api/events", json={"title": "Convention", "language": "fr"})
        assert made.status_code == 201, made.text
        assert made.json()["event"]["language"] == "fr"
        code = made.json()["event"]["join_code"]
        got = await http.get(f"/api/events/{code}")
        assert got.json()["event"] == {**made.json()["event"], "language": "fr"}
        joined = await http.post(f"/api/events/{code}/join", json={"pseudonym": "Ana"})
        assert joined.json()["event"]["language"] == "fr"

        plain = await http.post("/api/events", json={"title": "Jury"})
        assert plain.json()["event"]["language"] == "en"
        assert [r["name"] for r in plain.json()["rooms"]][:2] == ["Table 1", "Table 2"]
        german = await http.post("/api/events", json={"title": "Bürgerrat", "language": "de"})
        assert [r["name"] for r in german.json()["rooms"]][:2] == ["Tisch 1", "Tisch 2"]

        before = _events_in(db)
        for language in ("es", "FR", "", "en-GB"):
            refused = await http.post(
                "/api/events", json={"title": "Bürgerrat", "language": language}
            )
            assert refused.status_code == 422, refused.text
            error = refused.json()["error"]
            assert error["code"] == "invalid"
            allowed = "language must be one of en (English), fr (Français), de (Deutsch)"
            assert allowed in error["message"]
        wrong_type = await http.post("/api/events", json={"title": "Bürgerrat", "language": 7})
        assert wrong_type.status_code == 422
        assert wrong_type.json()["error"]["message"].startswith("language:")
        assert _events_in(db) == before, "a refused language creates nothing"


async def test_a_format_loads_in_the_participants_language(live_server_fast: LiveServer) -> None:
    # A French convention created with the world café gets French steps on every phone; a
    # German event loading a format from the console gets German ones; English stays English.
    url, ws = live_server_fast.url, live_server_fast.ws_url
    async with httpx.AsyncClient(base_url=url) as http:
        made = await http.post(
            "/api/events",
            json={"title": "Convention", "language": "fr", "template": "world_cafe"},
        )
        assert made.status_code == 201, made.text
        d = made.json()
    fac_s = Session(d["token"], d["participant"], d["event"], d["rooms"], d["facilitator_secret"])
    fac = await Client.open(ws, fac_s)
    try:
        agenda = (await fac.request("event.watch", {}))["payload"]["agenda"]
        assert [s["title"] for s in agenda["steps"]] == [
            "Accueil",
            "Tour 1",
            "Tour 2",
            "Tour 3",
            "Récolte",
        ]
        assert agenda["steps"][1]["prompt"].startswith("Quelle question")
        assert agenda["steps"][2]["assign"] == "reshuffle"
    finally:
        await fac.close()

    for language, titles in [
        ("de", ["Einführung", "Kritik"]),
        ("en", ["Introduction", "Critique"]),
    ]:
        session = await create_event(url, "Zukunftswerkstatt", rooms=2)
        async with httpx.AsyncClient(base_url=url) as http:
            changed = await http.patch(
                f"/api/events/{session.event['join_code']}",
                json={"language": language},
                headers={"Authorization": f"Bearer {session.token}"},
            )
            assert changed.status_code == 200, changed.text
        console = await Client.open(ws, session)
        try:
            ack = await console.request("agenda.load", {"template": "future_workshop"})
            assert ack["type"] == "ack", ack
            steps = ack["payload"]["agenda"]["steps"]
            assert [s["title"] for s in steps[:2]] == titles
            assert [s["votes"] for s in steps if s["votes"]] == [3]
        finally:
            await console.close()


async def test_a_facilitator_changes_the_language_and_every_connection_hears_it(
    live_server_fast: LiveServer,
) -> None:
    url, ws = live_server_fast.url, live_server_fast.ws_url
    fac_s = await create_event(url, "Assemblée", rooms=2)
    code = fac_s.event["join_code"]
    assert fac_s.event["language"] == "en"
    room = fac_s.rooms[0]["id"]
    ana_s = await join(url, code, "Ana", room)
    hana_s = await join(url, code, "Hana", room, role="table_host")
    fac = await Client.open(ws, fac_s)
    ana = await Client.open(ws, ana_s)
    hana = await Client.open(ws, hana_s)
    invite = (await fac.request("observer.invite", {}))["payload"]
    screen_s = Session(invite["token"], invite["participant"], fac_s.event, [])
    screen = await Client.open(ws, screen_s)
    clients = [fac, ana, hana, screen]
    try:
        await ana.join_room(room)  # a seated participant hears it too, not only the lobby
        async with httpx.AsyncClient(base_url=url) as http:
            changed = await http.patch(
                f"/api/events/{code}",
                json={"language": "fr"},
                headers={"Authorization": f"Bearer {fac_s.token}"},
            )
            assert changed.status_code == 200, changed.text
            event = {**fac_s.event, "language": "fr"}
            assert changed.json() == {"event": event}
            for client in clients:
                frame = await client.next("event.updated")
                assert frame["payload"] == {"event": event}, client.session.participant
            assert (await http.get(f"/api/events/{code}")).json()["event"] == event
            late = await Client.open(ws, await join(url, code, "Ben"))
            clients.append(late)
            assert late.hello["payload"]["event"]["language"] == "fr"
            assert late.session.event["language"] == "fr"

            # Nobody else changes it, and a refused change changes nothing.
            other = await create_event(url, rooms=1)
            for headers, why in [
                ({}, "Bearer"),
                ({"Authorization": fac_s.token}, "Bearer"),
                ({"Authorization": f"Bearer {fac_s.token[:-3]}xyz"}, "token refused"),
                ({"Authorization": f"Bearer {other.token}"}, "not for this event"),
                ({"Authorization": f"Bearer {ana_s.token}"}, "only a facilitator"),
                ({"Authorization": f"Bearer {hana_s.token}"}, "only a facilitator"),
                ({"Authorization": f"Bearer {screen_s.token}"}, "only a facilitator"),
            ]:
                refused = await http.patch(
                    f"/api/events/{code}", json={"language": "de"}, headers=headers
                )
                assert refused.status_code == 403, (headers, refused.text)
                assert refused.json()["error"]["code"] == "forbidden"
                assert why in refused.json()["error"]["message"], refused.text

            staff = {"Authorization": f"Bearer {fac_s.token}"}
            for body, status, code_ in [
                (b"{not json", 400, "malformed"),
                (b'{"language": "es"}', 422, "invalid"),
                (b'{"language": null}', 422, "invalid"),
                (b"{}", 422, "invalid"),
                (b'{"language": "de", "title": "Renamed"}', 422, "invalid"),
            ]:
                bad = await http.patch(f"/api/events/{code}", content=body, headers=staff)
                assert bad.status_code == status, (body, bad.text)
                assert bad.json()["error"]["code"] == code_
            assert (await http.get(f"/api/events/{code}")).json()["event"] == event
            missing = await http.patch("/api/events/NOSUCH", json={"language": "de"}, headers=staff)
            assert missing.status_code == 404

            # Refused changes sent nothing: the next `event.updated` each hears is this one.
            again = await http.patch(f"/api/events/{code}", json={"language": "de"}, headers=staff)
            assert again.json()["event"]["language"] == "de"
            for client in clients:
                frame = await client.next("event.updated")
                assert frame["payload"]["event"]["language"] == "de"
    finally:
        for client in clients:
            await client.close()


@pytest.mark.postgres
@pytest.mark.redis
async def test_a_change_made_on_one_process_reaches_pages_on_another(
    two_processes: tuple[LiveServer, LiveServer],
) -> None:
    one, two = two_processes
    fac = await create_event(one.url, rooms=1)
    code = fac.event["join_code"]
    ana = await Client.open(two.ws_url, await join(two.url, code, "Ana"))
    try:
        async with httpx.AsyncClient(base_url=one.url) as http:
            changed = await http.patch(
                f"/api/events/{code}",
                json={"language": "de"},
                headers={"Authorization": f"Bearer {fac.token}"},
            )
        assert changed.status_code == 200, changed.text
        frame = await ana.next("event.updated", timeout=15)
        assert frame["payload"]["event"] == {**fac.event, "language": "de"}
    finally:
        await ana.close()


async def test_tablee_serve_creates_its_event_in_the_language_asked_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = build_parser()
    args = parser.parse_args(["serve", "--create-event", "Bürgerrat", "--rooms", "3"])
    assert args.language == "en"
    args = parser.parse_args(
        ["serve", "--create-event", "Bürgerrat", "--rooms", "3", "--language", "de"]
    )
    assert args.language == "de"
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--create-event", "Jury", "--language", "es"])
    assert "invalid choice: 'es'" in capsys.readouterr().err

    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    await upgrade_async(url)
    await _announce_event(load_settings(database_url=url), args.create_event, 3, args.language)
    printed = capsys.readouterr().out
    assert "participants' pages in Deutsch" in printed
    code = printed.split("(code ")[1].split(")")[0]
    store = Store(url)
    try:
        found = await store.event_by_code(normalise_join_code(code))
        assert found is not None
        assert (found[0].title, found[0].language) == ("Bürgerrat", "de")
        assert len(await store.rooms(found[0].id)) == 3
    finally:
        await store.close()
