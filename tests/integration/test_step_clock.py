"""The server's clock with real short timers: warning, pause, shorten, end and recall; restarts."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

import httpx

from tests.client import create_event
from tests.conftest import LiveServer
from tests.event_client import Attendee, seat


def _at(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


async def test_a_real_short_step_warns_pauses_shortens_and_recalls(
    live_server_fast: LiveServer,
) -> None:
    url, ws = live_server_fast.url, live_server_fast.ws_url
    fac_session = await create_event(url, "Sprint", rooms=2)
    code = fac_session.event["join_code"]
    fac = await Attendee.open(ws, fac_session, join_room=False)
    ana = await Attendee.open(ws, await seat(url, code, "Ana", fac_session.rooms[0]["id"]))
    ben = await Attendee.open(ws, await seat(url, code, "Ben", fac_session.rooms[1]["id"]))
    try:
        # 62 seconds: the one-minute warning is due two seconds after the start.
        steps = [{"title": "Sprint", "prompt": "Go!", "mode": "breakouts", "duration": 62}]
        step = (await fac.request("agenda.set", {"steps": steps}))["payload"]["agenda"]["steps"][0]
        started = time.time()
        await fac.request("step.start", {"step": step["id"]})
        state = await ana.until_step(step["id"])
        assert state["current"]["status"] == "running" and state["phase"] == "breakouts"
        assert abs(_at(state["current"]["ends_at"]) - (started + 62)) < 1.5
        # Every room hears the warning, at the right time.
        warnings = await asyncio.gather(
            ana.until("step.warning", timeout=6), ben.until("step.warning", timeout=6)
        )
        assert 1.0 < time.time() - started < 5
        assert all(w["payload"]["step"] == step["id"] for w in warnings)
        assert 57 <= warnings[0]["payload"]["seconds"] <= 60

        paused = (await fac.request("step.pause", {}))["payload"]["agenda"]["current"]
        assert paused["status"] == "paused" and 55 < paused["remaining"] <= 60
        await asyncio.sleep(1.0)
        resumed = (await fac.request("step.resume", {}))["payload"]["agenda"]["current"]
        left = _at(resumed["ends_at"]) - time.time()
        assert paused["remaining"] - 0.5 < left <= paused["remaining"]  # the pause did not count
        shortened = await fac.request("step.adjust", {"seconds": -int(left) + 1})
        assert shortened["payload"]["agenda"]["current"]["status"] == "running"
        ended = await ana.until("step.ended", timeout=5)
        assert ended["payload"] == {"step": step["id"], "recalled": True}
        assert ana.agenda["phase"] == "plenary" and ana.agenda["current"]["status"] == "ended"
        await ben.until("step.ended", timeout=5)
        # Extending what has ended is refused; nothing is left running.
        assert (await fac.request("step.adjust", {"seconds": 60}))["payload"]["code"] == "conflict"
    finally:
        for p in (fac, ana, ben):
            await p.close()


async def test_a_running_step_survives_a_server_restart(start_server: Any) -> None:
    server = start_server(name="restart", TABLEE_WORKER="off")
    fac_session = await create_event(server.url, "Restart", rooms=1)
    ana_session = await seat(server.url, fac_session.event["join_code"], "Ana")
    fac = await Attendee.open(server.ws_url, fac_session, join_room=False)
    steps = [{"title": "Short", "duration": 4, "mode": "breakouts", "recall": False}]
    step = (await fac.request("agenda.set", {"steps": steps}))["payload"]["agenda"]["steps"][0]
    await fac.request("step.start", {"step": step["id"]})
    await fac.close()
    server.stop()
    again = start_server(name="restart", TABLEE_WORKER="off")  # same database, same key
    ana = await Attendee.open(again.ws_url, ana_session)
    try:
        assert ana.agenda["current"]["step"] == step["id"]
        if ana.agenda["current"]["status"] == "running":
            ended = await ana.until("step.ended", timeout=8)
            assert ended["payload"]["recalled"] is False
        assert ana.agenda["current"]["status"] == "ended"
        assert ana.agenda["phase"] == "breakouts"  # not recalled, as configured
    finally:
        await ana.close()


async def test_templates_and_table_qr_codes_over_http(live_server_fast: LiveServer) -> None:
    url = live_server_fast.url
    async with httpx.AsyncClient(base_url=url) as http:
        listed = (await http.get("/api/templates")).json()["templates"]
        names = {t["name"] for t in listed}
        assert {
            "world_cafe",
            "open_space",
            "citizens_jury",
            "future_workshop",
            "world_wide_views",
        } <= names
        created = await http.post(
            "/api/events", json={"title": "Jury day", "rooms": 3, "template": "citizens_jury"}
        )
        assert created.status_code == 201
        d = created.json()
        code, room = d["event"]["join_code"], d["rooms"][1]["id"]
        bad = await http.post("/api/events", json={"title": "X", "template": "nope"})
        assert bad.status_code == 404
        qr = await http.get(f"/api/events/{code}/rooms/{room}/qr.svg")
        assert qr.status_code == 200 and qr.headers["content-type"] == "image/svg+xml"
        assert qr.content.lstrip().startswith(b"<?xml") and b"<svg" in qr.content
        assert qr.headers["x-join-link"] == f"{url}/join/{code}?room={room}"
        host = await http.get(f"/api/events/{code}/rooms/{room}/qr.svg?as=host")
        assert host.headers["x-join-link"].endswith("&as=host")
        assert (await http.get(f"/api/events/{code}/rooms/nope/qr.svg")).status_code == 404
        hall = await http.get(f"/api/events/{code}/qr.svg")
        assert hall.status_code == 200 and hall.headers["content-type"] == "image/svg+xml"
        assert hall.headers["x-join-link"] == f"{url}/join/{code}"
        assert b"<title>Jury day</title>" in hall.content and hall.content != qr.content
        assert (await http.get("/api/events/ZZZZZZ/qr.svg")).status_code == 404
    fac = await Attendee.open(live_server_fast.ws_url, _session(d), join_room=False)
    try:
        titles = [s["title"] for s in fac.agenda["steps"]]
        assert titles[0] == "Welcome and ground rules" and len(titles) == 7
    finally:
        await fac.close()


def _session(d: dict[str, Any]) -> Any:
    from tests.client import Session

    return Session(d["token"], d["participant"], d["event"], d["rooms"], d["facilitator_secret"])
