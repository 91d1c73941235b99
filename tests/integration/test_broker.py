"""The Broker protocol, the same tests for every backend; then what only Redis can show."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import pytest

from server.broker import Broker, BrokerError, broker_from_url
from tests.conftest import PrivateRedis, require

REDIS_URL = "redis://127.0.0.1:6379/0"


class Inbox:
    def __init__(self) -> None:
        self.items: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self.resyncs = 0
        self.resynced = asyncio.Event()

    def handler(self, channel: str, message: str) -> None:
        self.items.put_nowait((channel, message))

    def resync(self) -> None:
        self.resyncs += 1
        self.resynced.set()

    async def get(self, timeout: float = 5) -> tuple[str, str]:
        return await asyncio.wait_for(self.items.get(), timeout)


async def _redis_up(url: str) -> bool:
    import redis.asyncio as aioredis

    client = aioredis.from_url(url, socket_connect_timeout=2)
    try:
        await client.ping()
        return True
    except Exception:
        return False
    finally:
        await client.aclose()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def broker_url(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    require(await _redis_up(REDIS_URL), f"Redis not reachable at {REDIS_URL}")
    return REDIS_URL


@pytest.fixture
async def broker(broker_url: str) -> AsyncIterator[tuple[Broker, Inbox]]:
    b = broker_from_url(broker_url)
    inbox = Inbox()
    await b.start(inbox.handler, inbox.resync)
    yield b, inbox
    await b.close()


async def test_a_subscriber_gets_what_is_published_in_order(broker: tuple[Broker, Inbox]) -> None:
    b, inbox = broker
    channel = f"room:{uuid.uuid4().hex}"
    await b.subscribe(channel)
    for i in range(50):
        await b.publish(channel, f"m{i}")
    got = [await inbox.get() for _ in range(50)]
    assert got == [(channel, f"m{i}") for i in range(50)]
    await b.ping()


async def test_nothing_arrives_on_channels_not_subscribed(broker: tuple[Broker, Inbox]) -> None:
    b, inbox = broker
    channel = f"room:{uuid.uuid4().hex}"
    await b.subscribe(channel)
    await b.unsubscribe(channel)
    await b.publish(channel, "lost")
    await b.publish(f"room:{uuid.uuid4().hex}", "elsewhere")
    with pytest.raises(TimeoutError):
        await inbox.get(timeout=0.5)


async def _subscribers_become(url: str, channel: str, count: int) -> None:
    import redis.asyncio as aioredis

    client = aioredis.from_url(url)
    try:
        for _ in range(100):
            if dict(await client.pubsub_numsub(channel)).get(channel.encode()) == count:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"{channel} never had {count} subscribers")
    finally:
        await client.aclose()


async def test_a_channel_is_heard_elsewhere_only_while_another_process_listens(
    broker: tuple[Broker, Inbox], broker_url: str
) -> None:
    b, _ = broker
    channel = f"theme-snapshots:{uuid.uuid4().hex}"
    await b.subscribe(channel)
    if broker_url == "memory://":
        assert not await b.heard_elsewhere(channel)  # one process: nobody else can listen
        return
    await _subscribers_become(broker_url, channel, 1)
    assert not await b.heard_elsewhere(channel), "its own subscription is not another's"
    other = broker_from_url(broker_url)
    await other.start(lambda _c, _m: None, lambda: None)
    try:
        await other.subscribe(channel)
        for _ in range(50):
            if await b.heard_elsewhere(channel):
                break
            await asyncio.sleep(0.02)
        assert await b.heard_elsewhere(channel)
        await other.unsubscribe(channel)
        for _ in range(50):
            if not await b.heard_elsewhere(channel):
                break
            await asyncio.sleep(0.02)
        assert not await b.heard_elsewhere(channel)
    finally:
        await other.close()


def test_unknown_schemes_are_named() -> None:
    with pytest.raises(BrokerError, match="kafka"):
        broker_from_url("kafka://x")


@contextlib.asynccontextmanager
async def _publisher_and_subscriber(
    private_redis: PrivateRedis,
) -> AsyncIterator[tuple[Broker, Inbox]]:
    """Two brokers on a private Redis, as two processes: one publishes, one hears room:x."""
    url = private_redis.url
    for _ in range(50):
        if await _redis_up(url):
            break
        await asyncio.sleep(0.1)
    a, b = broker_from_url(url), broker_from_url(url)
    ia, ib = Inbox(), Inbox()
    await a.start(ia.handler, ia.resync)
    await b.start(ib.handler, ib.resync)
    try:
        await b.subscribe("room:x")
        await asyncio.sleep(0.1)
        yield a, ib
    finally:
        private_redis.thaw()
        await a.close()
        await b.close()


async def _publish_once_back(broker: Broker, channel: str, message: str) -> None:
    """Publish as soon as the broker takes it again."""
    while True:
        try:
            await broker.publish(channel, message)
            return
        except BrokerError:
            await asyncio.sleep(0.05)


@pytest.mark.redis
async def test_two_processes_exchange_and_recover_after_redis_restarts(
    private_redis: PrivateRedis,
) -> None:
    async with _publisher_and_subscriber(private_redis) as (a, ib):
        await a.publish("room:x", "hello")
        assert await ib.get() == ("room:x", "hello")

        private_redis.stop()
        await asyncio.sleep(0.5)
        with pytest.raises(BrokerError):
            for _ in range(20):  # fails fast once the loss is noticed, never hangs
                await asyncio.wait_for(a.publish("room:x", "during"), 3)
                await asyncio.sleep(0.1)
        private_redis.start()
        loop = asyncio.get_running_loop()
        began = loop.time()
        await asyncio.wait_for(ib.resynced.wait(), 10)
        assert ib.resyncs == 1, "the subscriber is told it may have missed messages"
        await _publish_once_back(a, "room:x", "after")
        assert await ib.get() == ("room:x", "after")
        print(f"fan-out resumed {loop.time() - began:.2f} s after Redis came back")


@pytest.mark.redis
async def test_a_hung_redis_is_noticed_and_left_and_rejoined(
    private_redis: PrivateRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server import redis_broker

    monkeypatch.setattr(redis_broker, "HEALTH_SECONDS", 0.5)
    async with _publisher_and_subscriber(private_redis) as (a, ib):
        await a.publish("room:x", "before")
        assert await ib.get() == ("room:x", "before")

        private_redis.freeze()
        loop = asyncio.get_running_loop()
        began = loop.time()
        with pytest.raises(BrokerError):
            for _ in range(100):  # publishes are not awaited, so they cannot hang either
                await asyncio.wait_for(a.publish("room:x", "during"), 1)
                await asyncio.sleep(0.05)
        noticed = loop.time() - began
        assert noticed < 3, f"a hung Redis went unnoticed for {noticed:.1f} s"
        with pytest.raises(BrokerError):
            await a.ping()

        private_redis.thaw()
        await asyncio.wait_for(ib.resynced.wait(), 10)
        # A thawed Redis works through a backlog of reconnects, so a 0.5 s health check may
        # drop a connection once more and lose a publish (the hub's resync covers that).
        for _ in range(10):
            await _publish_once_back(a, "room:x", "after")
            try:
                while (item := await ib.get(1)) != ("room:x", "after"):
                    # What was published just before the freeze may still come; nothing else.
                    assert item == ("room:x", "during"), item
                break
            except TimeoutError:
                continue
        else:
            raise AssertionError("fan-out did not resume after Redis thawed")
        print(f"a hung Redis was noticed in {noticed:.2f} s")
