"""Fan-out between server processes, behind one small Protocol, chosen by URL.

`memory://` keeps everything in this process (the embedded default). Other schemes are
imported lazily so the default install needs none of their clients.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

Handler = Callable[[str, str], None]
"""Called with (channel, message) for every message on a subscribed channel; must not block."""
Resync = Callable[[], None]
"""Called after messages may have been lost (the broker came back after an outage)."""


class Broker(Protocol):
    # False when no other process listens: the hub has already delivered here, and need
    # not copy a frame into a message only to drop it as its own.
    reaches_others: bool

    async def start(self, handler: Handler, resync: Resync) -> None: ...

    async def subscribe(self, channel: str) -> None: ...

    async def unsubscribe(self, channel: str) -> None: ...

    async def publish(self, channel: str, message: str) -> None: ...

    async def heard_elsewhere(self, channel: str) -> bool:
        """Whether another process may be subscribed to `channel` (True when unsure)."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class BrokerError(RuntimeError):
    """Publishing failed; the change is committed and other processes will repair from the store."""


class MemoryBroker:
    """Delivers in publish order to this process's subscribers only."""

    reaches_others = False

    def __init__(self) -> None:
        self._handler: Handler | None = None
        self._channels: set[str] = set()

    async def start(self, handler: Handler, resync: Resync) -> None:
        self._handler = handler

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)

    async def publish(self, channel: str, message: str) -> None:
        if self._handler is not None and channel in self._channels:
            self._handler(channel, message)

    async def heard_elsewhere(self, channel: str) -> bool:
        return False

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._handler = None
        self._channels.clear()


def broker_from_url(url: str) -> Broker:
    scheme = url.split("://", 1)[0].lower()
    if scheme == "memory":
        return MemoryBroker()
    if scheme in ("redis", "rediss", "unix"):
        from .redis_broker import RedisBroker

        return RedisBroker(url)
    raise BrokerError(
        f"unsupported broker URL scheme {scheme!r} in TABLEE_BROKER_URL; "
        "use memory:// or redis://host:port/db"
    )
