"""The WebSocket endpoint: authenticate, then receive → parse → handle; the hub writes."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

from starlette.websockets import WebSocket, WebSocketDisconnect

from . import protocol, raw_frames
from .auth import TokenError
from .commands import HANDLERS, leave_room
from .context import AppContext
from .erasure import CLOSE_EVENT_DELETED, EVENT_DELETED_REASON
from .event_fanout import person_channel
from .facilitation import check_not_removed
from .hub import Connection, event_channel
from .limits import TokenBucket, origin_allowed
from .protocol import ErrorCode, ProtocolError
from .removal import CLOSE_REMOVED, REMOVED_REASON
from .rooms import WATCH_ROLES

log = logging.getLogger("tablee.ws")

CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
INBOX_FRAMES = 64  # requests read but not yet handled, per connection
WATCHER_QUEUE_FACTOR = 16
HANDLER_GRACE = 10.0  # seconds a closing connection's started writes get to finish
# Errors that only a broken or hostile client causes; a refused edit or a deleted note does not.
ABUSE_CODES = frozenset(
    {
        ErrorCode.MALFORMED,
        ErrorCode.UNKNOWN_TYPE,
        ErrorCode.INVALID,
        ErrorCode.RATE_LIMITED,
        ErrorCode.UNSUPPORTED_VERSION,
        ErrorCode.FORBIDDEN,
    }
)


def _token(websocket: WebSocket) -> str | None:
    offered = websocket.scope.get("subprotocols", [])
    if protocol.SUBPROTOCOL not in offered:
        return None
    for item in offered:
        if item.startswith(protocol.TOKEN_SUBPROTOCOL_PREFIX):
            return str(item[len(protocol.TOKEN_SUBPROTOCOL_PREFIX) :])
    return None


async def websocket_endpoint(websocket: WebSocket) -> None:
    ctx: AppContext = websocket.app.state.ctx
    settings = ctx.settings
    headers = websocket.headers
    if not origin_allowed(headers.get("origin"), headers.get("host"), settings.allowed_origins):
        log.info("socket refused: origin not allowed")
        await websocket.close(code=CLOSE_POLICY)
        return
    token = _token(websocket)
    try:
        if token is None:
            raise TokenError("no token subprotocol")
        claims = ctx.signer.verify(token, time.time())
    except TokenError as exc:
        log.info("socket refused: %s", exc)
        await websocket.close(code=CLOSE_POLICY)
        return
    participant = await ctx.store.participant(claims.participant_id)
    event = await ctx.store.event(claims.event_id)
    if event is None:
        # A token this server signed, for an event it no longer holds: the event was erased.
        gone = ProtocolError(ErrorCode.NOT_FOUND, "this event was deleted")
        await _refuse(websocket, gone, CLOSE_EVENT_DELETED, EVENT_DELETED_REASON)
        return
    if participant is None or participant.event_id != event.id:
        await websocket.close(code=CLOSE_POLICY)
        return
    try:
        check_not_removed(participant)
    except ProtocolError as exc:
        await _refuse(websocket, exc, CLOSE_REMOVED, REMOVED_REASON)
        return

    await websocket.accept(subprotocol=protocol.SUBPROTOCOL)
    # A console or a plenary screen hears every room and every placement: a burst of a
    # hundred tables must not count as falling behind.
    queue = settings.send_queue_frames * (
        WATCHER_QUEUE_FACTOR if participant.role in WATCH_ROLES else 1
    )
    conn = Connection(
        uuid.uuid4().hex, participant, queue, websocket, websocket.scope.get(raw_frames.SCOPE_KEY)
    )
    ctx.hub.add(conn)
    try:
        rooms = await ctx.room_list(event.id)
        conn.offer(
            protocol.encode(
                "hello",
                {
                    "protocol": protocol.VERSION,
                    "participant": participant.to_wire(),
                    "event": event.to_wire(),
                    "rooms": rooms,
                    "heartbeat": settings.heartbeat_seconds,
                },
            )
        )
        # After `hello`, so it stays the first frame; a rooms.updated published in between
        # is superseded by the next one, which carries the whole list again.
        await ctx.hub.listen(conn, event_channel(event.id))
        # From the start, not after `event.watch`: a removal must reach every connection of
        # that person, whatever the client has asked for.
        await ctx.hub.listen(conn, person_channel(participant.id))
        await _receive(websocket, ctx, conn)
    finally:
        for room_id in list(conn.room_heads):
            with contextlib.suppress(Exception):
                await leave_room(ctx, conn, room_id)
        await ctx.hub.remove(conn)
        await conn.close()


async def _refuse(websocket: WebSocket, error: ProtocolError, code: int, reason: str) -> None:
    """Accept only to say why, then close: a browser cannot read why a handshake was
    refused, and would keep trying as after any network failure."""
    log.info("socket refused: %s", error.message)
    await websocket.accept(subprotocol=protocol.SUBPROTOCOL)
    await websocket.send_text(protocol.error_frame(error))
    await websocket.close(code=code, reason=reason)


class _Strikes:
    """Counts the errors only a broken or hostile client causes; too many close the socket."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0

    def over(self, code: str) -> bool:
        if code in ABUSE_CODES:
            self.count += 1
        return self.count > self.limit


class _Inbox:
    """Requests read but not yet handled, and the task that handles them in order.

    The task runs only while requests wait, so an idle connection holds neither a task nor a
    queue; a thousand of them add up.
    """

    __slots__ = ("_handle", "_items", "_task", "stopped")

    def __init__(self, handle: Callable[[protocol.ClientMessage], Awaitable[bool]]) -> None:
        self._handle = handle
        self._items: list[protocol.ClientMessage] = []
        self._task: asyncio.Task[None] | None = None
        self.stopped = False  # a handler closed the socket

    def put(self, msg: protocol.ClientMessage) -> bool:
        if len(self._items) >= INBOX_FRAMES:
            return False
        self._items.append(msg)
        if self._task is None:
            self._task = asyncio.create_task(self._drain())
        return True

    async def _drain(self) -> None:
        try:
            while self._items and not self.stopped:
                if not await self._handle(self._items.pop(0)):
                    self.stopped = True
        finally:
            self._task = None

    async def finish(self, grace: float) -> None:
        """Let the requests already read be handled: a write that has begun gets published."""
        task = self._task
        if task is None:
            return
        try:
            await asyncio.wait_for(task, grace)
        except (TimeoutError, asyncio.CancelledError, Exception):
            task.cancel()


async def _receive(websocket: WebSocket, ctx: AppContext, conn: Connection) -> None:
    """Read frames without waiting for their handling.

    Reading never pauses behind a slow write, so the transport keeps answering pings while a
    note is being committed; the frames themselves are handled in order by one task.
    """
    settings = ctx.settings
    bucket = TokenBucket(settings.rate_per_second, settings.rate_burst)
    strikes = _Strikes(settings.max_bad_frames)
    inbox = _Inbox(functools.partial(_handle, websocket, ctx, conn, strikes))
    closing: tuple[int, str] | None = None  # set when the client is closed for abuse
    try:
        while not inbox.stopped:
            try:
                message = await websocket.receive()
            except (WebSocketDisconnect, RuntimeError):
                return
            if message["type"] == "websocket.disconnect":
                return
            data: str | bytes | None = message.get("text")
            if data is None:
                data = message.get("bytes") or b""
            try:
                msg = protocol.parse_client_frame(data)
                # Checked after parsing, so the refusal carries the request's ref and the
                # client can tell which request to retry.
                if not bucket.take(time.monotonic()):
                    raise ProtocolError(
                        ErrorCode.RATE_LIMITED, "too many messages; slow down", msg.ref
                    )
                if not inbox.put(msg):
                    # The server is behind, not the client at fault: refuse without a strike.
                    conn.offer(
                        protocol.error_frame(
                            ProtocolError(
                                ErrorCode.RATE_LIMITED,
                                "too many requests waiting; retry shortly",
                                msg.ref,
                            )
                        )
                    )
            except ProtocolError as exc:
                conn.offer(protocol.error_frame(exc))
                if exc.code == ErrorCode.TOO_BIG:
                    closing = (CLOSE_TOO_BIG, "frame too big")
                    return
                if strikes.over(exc.code):
                    closing = (CLOSE_POLICY, "too many bad frames")
                    return
            if conn.dropped:
                return
    finally:
        # Requests accepted before a close for abuse are answered before it, so a client
        # never loses the reply to a request the server took.
        await inbox.finish(HANDLER_GRACE)
        if closing is not None:
            await _close_after_flush(websocket, conn, *closing)


async def _handle(
    websocket: WebSocket,
    ctx: AppContext,
    conn: Connection,
    strikes: _Strikes,
    msg: protocol.ClientMessage,
) -> bool:
    """Handle one request; False once the socket is being closed for abuse."""
    if conn.closing:
        # Its person was removed: what they still sent changes nothing. Reading goes on,
        # so the server's close, once its last frame is written, is what ends the socket.
        return True
    try:
        await HANDLERS[msg.type](ctx, conn, msg)
    except ProtocolError as exc:
        exc.ref = msg.ref
        conn.offer(protocol.error_frame(exc))
        if strikes.over(exc.code):
            await _close_after_flush(websocket, conn, CLOSE_POLICY, "too many bad frames")
            return False
    except Exception:
        log.exception("handler failed for %s", msg.type)
        conn.offer(
            protocol.error_frame(
                ProtocolError(ErrorCode.INTERNAL, "the server failed; nothing was written", msg.ref)
            )
        )
    return True


async def _close_after_flush(
    websocket: WebSocket, conn: Connection, code: int, reason: str
) -> None:
    # Give a waiting writer a moment to send the error frame that explains the close.
    for _ in range(50):
        if conn.flushed:
            break
        await asyncio.sleep(0.01)
    with contextlib.suppress(Exception):
        await websocket.close(code=code, reason=reason)
