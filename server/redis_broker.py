"""Fan-out between server processes over Redis pub/sub, treated as lossy.

Pub/sub drops what is published while a subscriber is disconnected. That is acceptable
here: every room diff is in the database, and after a reconnect the hub is asked to check
every room it serves for frames it missed (`resync`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from .broker import BrokerError, Handler, Resync

log = logging.getLogger("tablee.broker")

CONTROL_CHANNEL = "tablee:control"  # always subscribed, so the listener has something to read
RETRY_MAX = 2.0


class RedisBroker:
    def __init__(self, url: str) -> None:
        self._url = url
        self._client: aioredis.Redis | None = None
        self._pubsub: Any = None
        self._channels: set[str] = {CONTROL_CHANNEL}
        self._task: asyncio.Task[None] | None = None
        self._handler: Handler | None = None
        self._resync: Resync | None = None
        self._up = asyncio.Event()
        self._closed = False

    async def start(self, handler: Handler, resync: Resync) -> None:
        self._handler = handler
        self._resync = resync
        self._client = aioredis.from_url(
            self._url,
            decode_responses=True,
            socket_connect_timeout=2,
            socket_keepalive=True,
            health_check_interval=5,
        )
        self._task = asyncio.create_task(self._listen())
        # Start even if Redis is down: this process serves its own rooms meanwhile.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._up.wait(), 5)

    async def _listen(self) -> None:
        delay = 0.1
        first = True
        while not self._closed:
            assert self._client is not None
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(*self._channels)
                self._pubsub = pubsub
                self._up.set()
                if not first:
                    log.info("broker reconnected; checking rooms for missed frames")
                    if self._resync is not None:
                        self._resync()
                first = False
                delay = 0.1
                async for message in pubsub.listen():
                    if message["type"] == "message" and self._handler is not None:
                        self._handler(message["channel"], message["data"])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                if self._up.is_set():
                    log.warning("broker connection lost: %s", exc)
            finally:
                self._up.clear()
                self._pubsub = None
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX)

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)
        if self._pubsub is not None:
            # If this fails the reconnect subscribes every channel again.
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.subscribe(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        if self._pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.unsubscribe(channel)

    async def publish(self, channel: str, message: str) -> None:
        # While disconnected, fail at once instead of holding every post behind a timeout.
        if not self._up.is_set() or self._client is None:
            raise BrokerError("broker unavailable")
        try:
            await self._client.publish(channel, message)
        except (RedisError, OSError) as exc:
            raise BrokerError(str(exc)) from None

    async def ping(self) -> None:
        if self._client is None:
            raise BrokerError("broker not started")
        try:
            await self._client.ping()
        except (RedisError, OSError) as exc:
            raise BrokerError(str(exc)) from None

    async def close(self) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._client is not None:
            await self._client.aclose()
