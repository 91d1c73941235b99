"""A theme snapshot of a large event (hundreds of kilobytes) goes out in slices over a real
server, and the room frames offered meanwhile reach the same socket whole and in order."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from server.auth import hash_secret, new_secret
from server.migrate import upgrade_async
from server.raw_frames import LARGE_FRAME
from server.store import Store
from tests.client import Client, Session, join
from tests.conftest import LiveServer

STORED_NOTES = 4000


async def _seed(url: str, n: int) -> tuple[str, str]:
    """An event of `n` notes written straight into the store: (join code, secret)."""
    await upgrade_async(url)
    store = Store(url)
    try:
        secret = new_secret()
        event, tables = await store.create_event(
            "Large", hash_secret(secret), [("Table 1", 60), ("Table 2", 60)]
        )
        person = await store.join(event.id, "Seed", "participant", tables[1].id)
        for k in range(n):
            text = f"note {k} on topic {k % 12}: more buses, safer lanes, cheaper {k % 7}"
            await store.post_note(person, tables[1], str(uuid.uuid4()), text)
    finally:
        await store.close()
    return event.join_code, secret


async def test_a_large_snapshot_and_room_frames_share_a_socket_intact(
    tmp_path: Path, start_server: Callable[..., LiveServer]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'large.db'}"
    code, secret = await _seed(url, STORED_NOTES)
    server = start_server(
        "large", themes=True, TABLEE_DATABASE_URL=url, TABLEE_EMBEDDING_MODEL="hashing"
    )
    async with httpx.AsyncClient(base_url=server.url) as http:
        r = await http.post(f"/api/events/{code}/facilitate", json={"secret": secret})
        r.raise_for_status()
        d = r.json()
    fac = await Client.open(
        server.ws_url, Session(d["token"], d["participant"], d["event"], d["rooms"])
    )
    room = d["rooms"][0]["id"]
    ana = await Client.open(server.ws_url, await join(server.url, code, "Ana", room))
    try:
        await fac.join_room(room)
        assert (await fac.request("themes.watch", {}))["type"] == "ack"
        posted: list[str] = []
        snapshot: dict[str, Any] | None = None
        room_frames: list[dict[str, Any]] = []
        async with asyncio.timeout(120):
            while snapshot is None or len(room_frames) < len(posted):
                if snapshot is None:
                    # Notes keep coming while the large snapshot is being written.
                    reply = await ana.post(room, f"a bus stop near the school {len(posted)}")
                    posted.append(reply["payload"]["note"]["id"])
                    await asyncio.sleep(0.25)  # within a participant's posting limit
                frame = await fac.next(timeout=60)
                if frame["type"] == "note.added":
                    room_frames.append(frame)
                elif (
                    frame["type"] == "themes.snapshot"
                    and frame["payload"]["n_notes"] >= STORED_NOTES
                ):
                    snapshot = frame["payload"]
        assert snapshot is not None
        assert len(json.dumps(snapshot)) > 2 * LARGE_FRAME  # sliced, not written at once
        held = {n for t in snapshot["themes"] for n in t["note_ids"]}
        held |= {u["id"] for u in snapshot["unthemed"]}
        assert len(held) == snapshot["n_notes"] >= STORED_NOTES
        assert [f["payload"]["note"]["id"] for f in room_frames] == posted
        seqs = [f["seq"] for f in room_frames]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        assert not fac.closed.done()  # a frame cut by another would have closed the socket
    finally:
        await ana.close()
        await fac.close()
