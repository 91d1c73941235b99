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

from typing import Any, ClassVar

from starlette.types import ASGIApp, Receive, Scope, Send
from websockets.frames import Frame, Opcode
from websockets.protocol import State

SCOPE_KEY = "tablee.raw_frames"

# The attributes of uvicorn's protocol this relies on; without any of them, no fast path.
_NEEDED = ("conn", "transport", "writable", "close_sent", "disconnected")


class RawFrames:
    """Writes framed bytes to one connection's transport, when that is safe right now."""

    __slots__ = ("_protocol",)

    written: ClassVar[int] = 0  # by all connections of this process, for the metrics

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol

    def write(self, data: bytes) -> bool:
        """Write `data` (a whole frame) and say True, or say False and write nothing."""
        p = self._protocol
        if (
            p.close_sent
            or p.disconnected
            or not p.writable.is_set()
            or p.conn.state is not State.OPEN
            or p.conn.extensions
        ):
            return False
        p.transport.write(data)
        RawFrames.written += 1
        return True


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
