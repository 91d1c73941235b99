"""Health, readiness, metrics and logs, on a real server."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.client import Client, create_event, join


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in metrics")


async def test_metrics_count_and_logs_hold_no_texts_or_tokens(start_server: Any) -> None:
    server = start_server(name="ops", TABLEE_LOG_FORMAT="json", TABLEE_WORKER="off")
    secret_text = "my neighbour's name is Zyxwvut and I dislike him"
    fac = await create_event(server.url, rooms=1)
    ana_s = await join(server.url, fac.event["join_code"], "Ana", fac.rooms[0]["id"])
    ana = await Client.open(server.ws_url, ana_s)
    fac_c = await Client.open(server.ws_url, fac)
    try:
        await fac_c.join_room(ana_s.room_id)
        await ana.join_room(ana_s.room_id)
        await ana.post(ana_s.room_id, secret_text)
        await fac_c.next("note.added")
        await ana.send_raw("{broken")  # an error path that logs nothing of the frame either
        await ana.next("error")
        async with httpx.AsyncClient(base_url=server.url) as http:
            assert (await http.get("/healthz")).json() == {"status": "ok"}
            ready = (await http.get("/readyz")).json()
            assert ready["checks"]["database"] == "ok" and ready["checks"]["broker"] == "ok"
            text = (await http.get("/metrics")).text
    finally:
        await ana.close()
        await fac_c.close()
    assert _metric(text, "tablee_connections") == 2
    assert _metric(text, "tablee_frames_published_total") >= 1
    assert _metric(text, "tablee_frames_delivered_total") >= 2
    # Under the real uvicorn, frames go straight to the sockets (hello and acks too).
    assert _metric(text, "tablee_frames_written_direct_total") >= _metric(
        text, "tablee_frames_delivered_total"
    )
    assert "# TYPE tablee_connections gauge" in text
    log = server.log()
    lines = [line for line in log.splitlines() if line.startswith("{")]
    assert lines, log[-2000:]
    for line in lines:
        json.loads(line)
    assert "Zyxwvut" not in log
    assert ana_s.token not in log and fac.token not in log
    assert ana_s.token[:20] not in log
