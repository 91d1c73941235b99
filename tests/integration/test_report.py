"""An event's report over a real server: its staff download every note with its theme as CSV
and the themes as Markdown; nobody else can."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from server.cli import main
from server.migrate import upgrade_async
from server.store import Store
from tests.client import Client, create_event, join
from tests.conftest import LiveServer
from tests.theme_follower import until_covered
from tests.topics import BIKES, MEALS


async def test_staff_download_every_note_with_its_theme_and_the_themes_report(
    live_server_fast: LiveServer,
) -> None:
    url = live_server_fast.url
    fac_s = await create_event(url, rooms=2)
    code = fac_s.event["join_code"]
    r1, r2 = fac_s.rooms[0]["id"], fac_s.rooms[1]["id"]
    ana_s = await join(url, code, "Ana", r1)
    ana = await Client.open(live_server_fast.ws_url, ana_s)
    cat = await Client.open(live_server_fast.ws_url, await join(url, code, "Cat", r2))
    fac = await Client.open(live_server_fast.ws_url, fac_s)
    try:
        await fac.request("themes.watch", {})
        gone = (await ana.post(r1, "=1+1 posted by mistake"))["payload"]["note"]["id"]
        await ana.request("note.delete", {"room": r1, "id": gone})
        ids: list[str] = []
        for i, text in enumerate(BIKES + MEALS):
            who, room = (ana, r1) if i % 2 == 0 else (cat, r2)
            ids.append((await who.post(room, text))["payload"]["note"]["id"])
        # Made after the last post: nothing changes after it, so the report shows these.
        snapshot = await until_covered(fac, set(ids))
    finally:
        for c in (ana, cat, fac):
            await c.close()

    async with httpx.AsyncClient(base_url=url) as http:
        staff = {"Authorization": f"Bearer {fac_s.token}"}
        got = await http.get(f"/api/events/{code}/report/notes.csv", headers=staff)
        assert got.status_code == 200, got.text
        assert got.headers["content-type"].startswith("text/csv")
        assert "attachment" in got.headers["content-disposition"]
        assert got.text.startswith("\ufeff")
        rows = list(csv.DictReader(io.StringIO(got.text.lstrip("\ufeff"))))
        assert [r["note_id"] for r in rows] == ids, "every live note, oldest first, none deleted"
        theme_of = {n: t["id"] for t in snapshot["themes"] for n in t["note_ids"]}
        for row in rows:
            assert row["theme_id"] == theme_of.get(row["note_id"], "")
            assert row["table"] in {"Table 1", "Table 2"}
            assert row["status"] in {"themed", "unique idea", "not yet themed"}
        assert {r["text"] for r in rows} == set(BIKES + MEALS)

        md = await http.get(f"/api/events/{code}/report/themes.md", headers=staff)
        assert md.status_code == 200
        assert md.headers["content-type"].startswith("text/markdown")
        assert f"{len(ids)} notes from 2 tables" in md.text
        assert f"Themes as of version {snapshot['version']}:" in md.text
        for theme in snapshot["themes"]:
            assert f". {theme['label']}" in md.text
        # In another language than the event's, for a facilitator who reports in it.
        fr = await http.get(f"/api/events/{code}/report/themes.md?lang=fr", headers=staff)
        assert fr.status_code == 200
        assert fr.text.startswith("# ") and "\u00a0: thèmes" in fr.text.splitlines()[0]
        assert f"{len(ids)} contributions de 2 tables" in fr.text
        bad = await http.get(f"/api/events/{code}/report/themes.md?lang=xx", headers=staff)
        assert bad.status_code == 422 and "language must be one of" in bad.text

        # Nobody else: no token, a participant's, a forged one, another event's facilitator.
        other = await create_event(url, rooms=1)
        for headers, why in [
            ({}, "Bearer"),
            ({"Authorization": f"Bearer {ana_s.token}"}, "facilitator"),
            ({"Authorization": f"Bearer {fac_s.token[:-3]}xyz"}, "token refused"),
            ({"Authorization": f"Bearer {other.token}"}, "not for this event"),
        ]:
            for path in ("notes.csv", "themes.md"):
                refused = await http.get(f"/api/events/{code}/report/{path}", headers=headers)
                assert refused.status_code == 403, (headers, refused.text)
                assert why in refused.json()["error"]["message"]
        missing = await http.get("/api/events/NOSUCH/report/notes.csv", headers=staff)
        assert missing.status_code == 404


async def test_an_operator_prints_the_report_from_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'event.db'}"
    await upgrade_async(url)
    store = Store(url)
    try:
        event, rooms = await store.create_event("Town jury", "hash", [("T1", 8), ("T2", 8)])
        ana = await store.join(event.id, "Ana", "participant", rooms[0].id)
        room = await store.room(rooms[0].id)
        assert room is not None
        ids = [str(uuid.uuid4()) for _ in range(3)]
        for note_id, text in zip(
            ids, ["bike lanes", "more bike lanes", "a lone idea"], strict=True
        ):
            await store.post_note(ana, room, note_id, text)
        themes = {
            "version": 5,
            "n_rooms": 1,
            "themes": [
                {
                    "id": "t-1",
                    "label": "bikes",
                    "size": 2,
                    "note_ids": ids[:2],
                    "rooms": [{"id": room.id, "count": 2}],
                },
            ],
            "unthemed": [{"id": ids[2], "text": "a lone idea", "room_id": room.id}],
        }
        await store.themes.save(event.id, 5, json.dumps(themes), datetime.now(UTC))
    finally:
        await store.close()

    monkeypatch.setenv("TABLEE_DATABASE_URL", url)
    code = event.join_code
    assert await asyncio.to_thread(main, ["report", code.lower()]) == 0
    report = capsys.readouterr().out
    assert report.startswith("# Town jury: themes")
    assert "Themes as of version 5: 1 theme, 1 unique idea." in report
    assert "- T1: bikes (2), 1 unique idea" in report
    assert await asyncio.to_thread(main, ["report", code, "--language", "de"]) == 0
    german = capsys.readouterr().out
    assert german.startswith("# Town jury: Themen")
    assert "Themen der Version 5: 1 Thema, 1 einzelne Idee." in german
    assert "- T1: bikes (2), 1 einzelne Idee" in german

    out = tmp_path / "notes.csv"
    assert await asyncio.to_thread(main, ["report", code, "--csv", "-o", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))
    assert [(r["note_id"], r["theme"], r["status"]) for r in rows] == [
        (ids[0], "bikes", "themed"),
        (ids[1], "bikes", "themed"),
        (ids[2], "", "unique idea"),
    ]

    answers = tmp_path / "answers.csv"
    assert await asyncio.to_thread(main, ["report", code, "--answers", "-o", str(answers)]) == 0
    assert answers.read_text("utf-8").startswith("\ufeffstep,question,table,choice_number,")
    assert len(answers.read_text("utf-8").splitlines()) == 1  # this agenda asks nothing

    assert await asyncio.to_thread(main, ["report", "NOSUCH"]) == 1
    assert "no event has the code 'NOSUCH'" in capsys.readouterr().err
