"""A small protocol client for tests: HTTP join, then a WebSocket with request/reply by ref."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from server.protocol import SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX


@dataclass
class Session:
    token: str
    participant: dict[str, Any]
    event: dict[str, Any]
    rooms: list[dict[str, Any]]
    secret: str | None = None

    @property
    def room_id(self) -> str:
        return str(self.participant["room_id"])


async def create_event(
    base_url: str, title: str = "Jury", rooms: int | list[str] = 2, capacity: int = 8
) -> Session:
    async with httpx.AsyncClient(base_url=base_url) as http:
        r = await http.post(
            "/api/events", json={"title": title, "rooms": rooms, "capacity": capacity}
        )
        r.raise_for_status()
        d = r.json()
        return Session(
            d["token"], d["participant"], d["event"], d["rooms"], d["facilitator_secret"]
        )


async def join(
    base_url: str, code: str, pseudonym: str, room_id: str | None = None, role: str = "participant"
) -> Session:
    async with httpx.AsyncClient(base_url=base_url) as http:
        body: dict[str, Any] = {"pseudonym": pseudonym, "role": role}
        if room_id is not None:
            body["room_id"] = room_id
        r = await http.post(f"/api/events/{code}/join", json=body)
        r.raise_for_status()
        d = r.json()
        return Session(d["token"], d["participant"], d["event"], d["rooms"])


async def refused_at_connect(
    ws_url: str, token: str, code: int, timeout: float = 20.0
) -> dict[str, Any]:
    """The one frame a refused token gets, after checking the socket is then closed `code`."""
    from websockets.exceptions import ConnectionClosed

    subprotocols = [Subprotocol(SUBPROTOCOL), Subprotocol(TOKEN_SUBPROTOCOL_PREFIX + token)]
    async with connect(ws_url, subprotocols=subprotocols) as ws:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        try:
            await asyncio.wait_for(ws.recv(), timeout)
        except ConnectionClosed:
            pass
        else:
            raise AssertionError("the socket stayed open after its refusal")
        assert ws.close_code == code, ws.close_code
    return frame


@dataclass
class Client:
    ws: ClientConnection
    session: Session
    frames: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    replies: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    hello: dict[str, Any] = field(default_factory=dict)
    _refs: itertools.count[int] = field(default_factory=itertools.count)
    _reader: asyncio.Task[None] | None = None
    closed: asyncio.Future[tuple[int | None, str]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    @classmethod
    async def open(cls, ws_url: str, session: Session) -> Client:
        ws = await connect(
            ws_url,
            subprotocols=[
                Subprotocol(SUBPROTOCOL),
                Subprotocol(TOKEN_SUBPROTOCOL_PREFIX + session.token),
            ],
            max_size=None,
        )
        client = cls(ws, session)
        client._reader = asyncio.create_task(client._read())
        hello = await client.next("hello")
        client.hello = hello
        return client

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                frame = json.loads(raw)
                ref = frame.get("ref")
                if ref is not None and ref in self.replies:
                    self.replies.pop(ref).set_result(frame)
                else:
                    await self.frames.put(frame)
        except Exception:
            pass
        finally:
            if not self.closed.done():
                self.closed.set_result((self.ws.close_code, self.ws.close_reason or ""))

    async def request(
        self, type_: str, payload: dict[str, Any], timeout: float = 10
    ) -> dict[str, Any]:
        ref = f"r{next(self._refs)}"
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.replies[ref] = fut
        await self.ws.send(json.dumps({"v": 1, "type": type_, "ref": ref, "payload": payload}))
        return await asyncio.wait_for(fut, timeout)

    async def send_raw(self, data: str | bytes) -> None:
        await self.ws.send(data)

    def send_burst(self, texts: list[str]) -> None:
        """Send text frames in one write to the socket, so the server reads them all at once."""
        for text in texts:
            self.ws.protocol.send_text(text.encode())
        self.ws.transport.write(b"".join(self.ws.protocol.data_to_send()))

    async def next(self, type_: str | None = None, timeout: float = 10) -> dict[str, Any]:
        """The next frame (of that type; others before it are discarded)."""
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.frames.get()
                if type_ is None or frame["type"] == type_:
                    return frame

    async def join_room(self, room: str, since: dict[str, Any] | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {"room": room}
        if since is not None:
            payload["since"] = since
        return await self.request("room.join", payload)

    async def post(self, room: str, text: str, note_id: str | None = None) -> dict[str, Any]:
        return await self.request(
            "note.post", {"room": room, "id": note_id or str(uuid.uuid4()), "text": text}
        )

    async def close(self) -> None:
        await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
