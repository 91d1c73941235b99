"""Frames written straight to a WebSocket's transport, framed once for all their recipients.

A room's diff goes to every member as the same bytes: a server does not mask its frames,
and compression is off. Through ASGI, each recipient cost a message dict, Starlette's and
uvicorn's checks and websockets' framing, all in Python. Here a fan-out frames the text
once and each recipient costs one transport write.

Only where uvicorn's websockets-sansio protocol is underneath, and only while the socket is
open, uncompressed and keeping up; otherwise the frame takes the ASGI path, which also waits
for a slow socket (see `hub.Connection`).
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from starlette.types import ASGIApp, Receive, Scope, Send
from websockets.frames import Frame, Opcode
from websockets.protocol import State

SCOPE_KEY = "tablee.raw_frames"

# Frames longer than this go out in slices of `SLICE_BYTES`, one per turn of the loop.
LARGE_FRAME = 256 * 1024
SLICE_BYTES = 64 * 1024

# The attributes of uvicorn's protocol this relies on; without any of them, no fast path.
_NEEDED = ("conn", "transport", "writable", "close_sent", "disconnected")


class RawFrames:
    """Writes framed bytes to one connection's transport, when that is safe right now."""

    __slots__ = ("_protocol",)

    written: ClassVar[int] = 0  # by all connections of this process, for the metrics

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol

    def _open(self) -> bool:
        p = self._protocol
        return not (p.close_sent or p.disconnected or p.conn.state is not State.OPEN)

    def ready(self) -> bool:
        """Whether a frame written now would go straight to the socket."""
        p = self._protocol
        return self._open() and p.writable.is_set() and not p.conn.extensions

    def write(self, data: bytes) -> bool:
        """Write `data` (a whole frame) and say True, or say False and write nothing."""
        if not self.ready():
            return False
        self._protocol.transport.write(data)
        RawFrames.written += 1
        return True

    async def write_sliced(self, data: bytes) -> None:
        """Write a large frame `SLICE_BYTES` per turn of the event loop, waiting for the
        socket between slices as it asks.

        A theme snapshot of a large event is megabytes; written at once it held the loop
        for 10-13 ms (copied into the kernel's buffers, then into the transport's), and
        every room's deliveries waited. Once begun, the frame must be finished before any
        other frame to this socket: the caller holds them back meanwhile. Raises
        `ConnectionError` if the socket closes half-way.
        """
        view = memoryview(data)
        for start in range(0, len(data), SLICE_BYTES):
            if start:
                await asyncio.sleep(0)
            p = self._protocol
            if self._open() and not p.writable.is_set():
                await p.writable.wait()
            if not self._open():
                raise ConnectionError("the socket closed while a frame was being written")
            p.transport.write(view[start : start + SLICE_BYTES])
        RawFrames.written += 1


def raw_frames(send: Send) -> RawFrames | None:
    protocol = getattr(send, "__self__", None)
    if protocol is None or type(protocol).__name__ != "WebSocketsSansIOProtocol":
        return None
    if not all(hasattr(protocol, name) for name in _NEEDED):
        return None
    return RawFrames(protocol)


class RawFramesMiddleware:
    """Puts a `RawFrames` in each WebSocket's scope when uvicorn's protocol allows one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            raw = raw_frames(send)
            if raw is not None:
                scope = {**scope, SCOPE_KEY: raw}
        await self.app(scope, receive, send)


class TextFrames:
    """Frames text, remembering the last text: a fan-out offers the same string to each
    recipient in turn, so it is framed once."""

    __slots__ = ("_data", "_text")

    def __init__(self) -> None:
        self._text: str | None = None
        self._data = b""

    def __call__(self, text: str) -> bytes:
        if text is not self._text:
            self._data = Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])
            self._text = text
        return self._data


text_frame = TextFrames()
