"""Fan-out between server processes over Redis pub/sub, treated as lossy.

Pub/sub drops what is published while a subscriber is disconnected. That is acceptable
here: every room diff is in the database, and after a reconnect the hub is asked to check
every room it serves for frames it missed (`resync`).

Two connections of `resp.RespConnection`: one subscribed, watched with a PING every few
seconds, and one to publish on, whose replies are counted rather than awaited. A publish
is fire-and-forget, as pub/sub itself is: what matters is in the database already.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from . import resp
from .broker import BrokerError, Handler, Resync

log = logging.getLogger("tablee.broker")

CONTROL_CHANNEL = "tablee:control"  # always subscribed, so the connection is never idle
RETRY_MAX = 2.0
HEALTH_SECONDS = 5.0  # a subscribed connection that answers no PING for this long is dropped
NUMSUB_WAIT = 1.0  # seconds; past this a channel counts as heard
SUBSCRIBED_MARK = "tablee:subscribed"
MAX_UNANSWERED = 10_000  # publishes Redis has not answered: past this it counts as down


class RedisBroker:
    reaches_others = True

    def __init__(self, url: str) -> None:
        self._url = url
        self._sub: resp.RespConnection | None = None
        self._pub: resp.RespConnection | None = None
        self._channels: set[str] = {CONTROL_CHANNEL}
        self._tasks: list[asyncio.Task[None]] = []
        self._handler: Handler | None = None
        self._resync: Resync | None = None
        self._up = asyncio.Event()
        self._subscribed: asyncio.Future[None] | None = None
        self._pub_up = asyncio.Event()
        self._closed = False

    async def start(self, handler: Handler, resync: Resync) -> None:
        self._handler = handler
        self._resync = resync
        self._tasks = [
            asyncio.create_task(self._listen()),
            asyncio.create_task(self._keep_publisher()),
        ]
        # Start even if Redis is down: this process serves its own rooms meanwhile.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(self._up.wait(), self._pub_up.wait()), 5)

    def _on_push(self, reply: Any) -> None:
        # Subscribe confirmations and PING answers need nothing: their arrival is enough.
        if type(reply) is list and len(reply) == 3 and reply[0] == "message":
            handler = self._handler
            if handler is not None:
                handler(reply[1], reply[2])
        elif type(reply) is list and reply == ["pong", SUBSCRIBED_MARK]:
            waiting = self._subscribed
            if waiting is not None and not waiting.done():
                waiting.set_result(None)

    async def _listen(self) -> None:
        delay = 0.1
        first = True
        while not self._closed:
            try:
                conn = await resp.connect(self._url, self._on_push)
            except resp.RespError as exc:
                if first:
                    log.warning("broker unreachable: %s", exc)
                    first = False
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)
                continue
            try:
                self._sub = conn  # a channel subscribed from now on is sent on it
                await self._subscribe_all(conn)
                self._up.set()
                if not first:
                    log.info("broker reconnected; checking rooms for missed frames")
                    if self._resync is not None:
                        self._resync()
                first = False
                delay = 0.1
                reason = await self._watch(conn)
                log.warning("broker connection lost: %s", reason)
            except resp.RespError as exc:
                log.warning("broker connection lost: %s", exc)
            finally:
                self._up.clear()
                self._sub = None
                conn.abort()
                if self._pub is not None:
                    self._pub.abort()  # publishes would go nowhere useful either
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX)

    async def _subscribe_all(self, conn: resp.RespConnection) -> None:
        """Subscribe every channel and wait until Redis has done it. Only then is the
        resync meaningful: a frame published between a resync and a subscription Redis has
        not yet taken would be lost with nothing to say so."""
        self._subscribed = asyncio.get_running_loop().create_future()
        conn.send("SUBSCRIBE", *self._channels)
        # Redis answers a connection's commands in order: this PONG follows the subscribes.
        conn.send("PING", SUBSCRIBED_MARK)
        subscribed = self._subscribed
        try:
            await asyncio.wait(
                {subscribed, conn.closed},
                timeout=HEALTH_SECONDS,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            self._subscribed = None
        if not subscribed.done():
            subscribed.cancel()
            raise resp.RespError(f"no answer to SUBSCRIBE for {HEALTH_SECONDS:g} s")

    async def _watch(self, conn: resp.RespConnection) -> str:
        """Wait until the connection closes or stops answering, and say which."""
        loop = asyncio.get_running_loop()
        while True:
            sent = loop.time()
            conn.send("PING")
            try:
                await asyncio.wait_for(asyncio.shield(conn.closed), HEALTH_SECONDS)
                return "closed"
            except TimeoutError:
                if conn.last_data < sent:
                    return f"no answer for {HEALTH_SECONDS:g} s"

    async def _keep_publisher(self) -> None:
        delay = 0.1
        while not self._closed:
            try:
                conn = await resp.connect(self._url)
            except resp.RespError:
                await asyncio.sleep(delay)  # the subscriber's loop reports the outage
                delay = min(delay * 2, RETRY_MAX)
                continue
            self._pub = conn
            self._pub_up.set()
            delay = 0.1
            try:
                await conn.closed
            finally:
                self._pub_up.clear()
                self._pub = None
                conn.abort()
                if conn.errors:
                    log.warning("Redis refused %d publishes", conn.errors)

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)
        if self._sub is not None:
            # If this fails the reconnect subscribes every channel again.
            with contextlib.suppress(resp.RespError):
                self._sub.send("SUBSCRIBE", channel)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        if self._sub is not None:
            with contextlib.suppress(resp.RespError):
                self._sub.send("UNSUBSCRIBE", channel)

    async def publish(self, channel: str, message: str) -> None:
        # While disconnected, fail at once instead of holding every post behind a timeout.
        conn = self._pub
        if not self._up.is_set() or conn is None:
            raise BrokerError("broker unavailable")
        if conn.unanswered > MAX_UNANSWERED:
            raise BrokerError("broker is not answering")
        try:
            conn.send("PUBLISH", channel, message)
        except resp.RespError as exc:
            raise BrokerError(str(exc)) from None

    async def heard_elsewhere(self, channel: str) -> bool:
        conn = self._pub
        if conn is None:
            return True  # the publish that follows fails, and says why
        try:
            reply = await asyncio.wait_for(conn.call("PUBSUB", "NUMSUB", channel), NUMSUB_WAIT)
        except (resp.RespError, TimeoutError):
            return True
        own = 1 if channel in self._channels and self._sub is not None else 0
        return int(reply[1]) > own

    async def ping(self) -> None:
        conn = self._pub
        if conn is None:
            raise BrokerError("broker not connected")
        try:
            await asyncio.wait_for(conn.call("PING"), resp.CONNECT_TIMEOUT)
        except (resp.RespError, TimeoutError) as exc:
            raise BrokerError(str(exc) or "no answer to PING") from None

    async def close(self) -> None:
        self._closed = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for conn in (self._sub, self._pub):
            if conn is not None:
                conn.abort()
