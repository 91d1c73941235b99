"""A test participant that survives its server: it reconnects elsewhere and resumes.

It keeps what a browser keeps: per room the last seq and epoch seen, the wall as a set of
note ids, and the posts not yet acknowledged, resent with their ids after a reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from server.protocol import SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX
from tests.client import Session


@dataclass
class Resilient:
    session: Session
    urls: list[str]
    room: str
    seq: int = 0
    epoch: str | None = None
    wall: set[str] = field(default_factory=set)
    order: list[int] = field(default_factory=list)  # seqs in the order they were applied
    gaps: int = 0
    duplicates: int = 0
    reconnects: int = 0
    acked: set[str] = field(default_factory=set)
    outbox: dict[str, str] = field(default_factory=dict)  # note id -> text, until acked
    drop_acks: float = 0.0  # share of acks to ignore, as if they were lost
    ws: ClientConnection | None = None
    _url_index: int = 0
    _replies: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    _reader: asyncio.Task[None] | None = None
    _joined: asyncio.Event = field(default_factory=asyncio.Event)
    _refs: int = 0
    _rng_state: int = 0
    closed_by_server: asyncio.Event = field(default_factory=asyncio.Event)

    async def connect(self) -> None:
        url = self.urls[self._url_index % len(self.urls)]
        self.ws = await connect(
            url,
            subprotocols=[
                Subprotocol(SUBPROTOCOL),
                Subprotocol(TOKEN_SUBPROTOCOL_PREFIX + self.session.token),
            ],
            max_size=None,
            open_timeout=10,
        )
        self._joined.clear()
        self._reader = asyncio.create_task(self._read(self.ws))
        since = {"seq": self.seq, "epoch": self.epoch} if self.epoch else None
        payload: dict[str, Any] = {"room": self.room}
        if since:
            payload["since"] = since
        await self.ws.send(
            json.dumps({"v": 1, "type": "room.join", "ref": "join", "payload": payload})
        )
        await asyncio.wait_for(self._joined.wait(), 10)

    async def failover(self) -> None:
        """The server went away: connect to the next one and resend what was not acked."""
        self._url_index += 1
        self.reconnects += 1
        for attempt in range(50):
            try:
                await self.connect()
                break
            except (OSError, ConnectionClosed, TimeoutError):
                await asyncio.sleep(min(0.05 * 2**attempt, 1.0))
        for note_id, text in list(self.outbox.items()):
            await self._send_post(note_id, text)

    def _apply(self, frame: dict[str, Any]) -> None:
        if frame.get("epoch") != self.epoch:
            return
        seq = frame["seq"]
        if seq <= self.seq:
            self.duplicates += 1
            return
        if seq != self.seq + 1:
            self.gaps += 1
        self.seq = seq
        self.order.append(seq)
        if frame["type"] == "note.added":
            self.wall.add(frame["payload"]["note"]["id"])
        elif frame["type"] == "note.deleted":
            self.wall.discard(frame["payload"]["id"])

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                frame = json.loads(raw)
                kind = frame["type"]
                if kind == "room.joined":
                    p = frame["payload"]
                    if p["recovered"]:
                        for missed in p["missed"]:
                            self._apply(missed)
                    else:
                        self.epoch = p["epoch"]
                        self.seq = p["seq"]
                        self.wall = {n["id"] for n in p["notes"]}
                    self._joined.set()
                elif kind in ("note.added", "note.deleted", "note.edited", "note.likes"):
                    self._apply(frame)
                elif kind == "ack" and frame.get("ref", "").startswith("post:"):
                    note_id = frame["ref"][5:]
                    if self._lose_this_ack():
                        continue
                    self.acked.add(note_id)
                    self.outbox.pop(note_id, None)
                    fut = self._replies.pop(frame["ref"], None)
                    if fut is not None and not fut.done():
                        fut.set_result(frame)
        except ConnectionClosed:
            pass
        finally:
            self.closed_by_server.set()

    def _lose_this_ack(self) -> bool:
        # A deterministic pseudo-random stream per client, so a failure can be replayed.
        self._rng_state = (self._rng_state * 1103515245 + 12345) % 2**31
        return self._rng_state / 2**31 < self.drop_acks

    async def _send_post(self, note_id: str, text: str) -> None:
        assert self.ws is not None
        frame = {
            "v": 1,
            "type": "note.post",
            "ref": f"post:{note_id}",
            "payload": {"room": self.room, "id": note_id, "text": text},
        }
        with contextlib.suppress(ConnectionClosed):
            await self.ws.send(json.dumps(frame))

    async def post(self, text: str, *, sends: int = 1, timeout: float = 5) -> str:
        """Post until an acknowledgement gets through, `sends` copies at a time, one id."""
        note_id = str(uuid.uuid4())
        self.outbox[note_id] = text
        while note_id not in self.acked:
            if self.ws is None or self.ws.close_code is not None:
                # Kept in the outbox: failover() resends it on the next server.
                await asyncio.sleep(0.05)
                continue
            fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._replies[f"post:{note_id}"] = fut
            for _ in range(sends):
                await self._send_post(note_id, text)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(fut, timeout)
        return note_id

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
