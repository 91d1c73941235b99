"""RedisPresence's tick on a real Redis of the test's own.

A private server, so that its command counters see only these instances and a test may
restart it. A tick should read the room hashes only when a process has died, or as the
periodic backstop.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio as aioredis

from server.presence_registry import (
    FULL_SWEEP_EVERY,
    PROC_KEY,
    PROCS_KEY,
    ROOM_KEY,
    Member,
    RedisPresence,
)
from tests.conftest import PrivateRedis

pytestmark = pytest.mark.redis
HEARTBEAT = 15.0


class Leaves:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    async def __call__(self, room: str, member: Member) -> None:
        self.seen.append((room, str(member["id"])))


Make = Callable[[str], Awaitable[RedisPresence]]


@pytest.fixture
async def redis(private_redis: PrivateRedis) -> AsyncIterator[aioredis.Redis]:
    client: aioredis.Redis = aioredis.from_url(private_redis.url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
async def make(private_redis: PrivateRedis) -> AsyncIterator[Make]:
    """New RedisPresence instances, the origin named by the test; closed after the test."""
    made: list[RedisPresence] = []

    async def new(origin: str) -> RedisPresence:
        presence = RedisPresence(private_redis.url, origin, HEARTBEAT)
        made.append(presence)
        return presence

    yield new
    for presence in made:
        await presence.close()


def person(name: str) -> Member:
    return {"id": name, "name": name}


async def calls(redis: aioredis.Redis, command: str) -> int:
    stats = await redis.info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


async def seat(presence: RedisPresence, room: str, *names: str) -> None:
    for name in names:
        await presence.join(room, person(name), f"c-{name}")


async def test_a_tick_reads_no_room_while_every_process_lives(
    make: Make, redis: aioredis.Redis
) -> None:
    one, two = await make("one"), await make("two")
    leaves = Leaves()
    for presence in (one, two):
        await presence.tick(leaves)  # a server ticks before it serves; the first tick sweeps
    await seat(one, "r1", "ana", "bo")
    await seat(two, "r1", "cy")
    await seat(two, "r2", "di", "ed")
    await redis.config_resetstat()
    for _ in range(FULL_SWEEP_EVERY - 1):
        await one.tick(leaves)
        await two.tick(leaves)
    for command in ("scan", "hgetall", "hdel"):
        assert await calls(redis, command) == 0, f"a quiet tick sent {command.upper()}"
    # Two round trips per tick: SET + SADD + SMEMBERS in one pipeline, then one MGET.
    assert await calls(redis, "mget") == 2 * (FULL_SWEEP_EVERY - 1)
    assert leaves.seen == []
    assert {m["id"] for m in await one.members("r1")} == {"ana", "bo", "cy"}
    assert await redis.smembers(PROCS_KEY) == {"one", "two"}


async def test_a_dead_process_is_swept_once_and_unlisted(make: Make, redis: aioredis.Redis) -> None:
    one, two, doomed = await make("one"), await make("two"), await make("doomed")
    leaves = Leaves()
    for presence in (one, two, doomed):
        await presence.tick(leaves)
    await seat(one, "r1", "ana")
    await seat(doomed, "r1", "bo", "cy")
    await seat(doomed, "r2", "di")
    # Ana also has a tab open on the doomed process: she stays, so no leave for her.
    await doomed.join("r1", person("ana"), "c-ana-2")
    assert await redis.sismember(PROCS_KEY, "doomed")

    await redis.delete(PROC_KEY + "doomed")  # as if its liveness key expired
    await redis.config_resetstat()
    await one.tick(leaves)
    await two.tick(leaves)

    assert sorted(leaves.seen) == [("r1", "bo"), ("r1", "cy"), ("r2", "di")]
    for room in ("r1", "r2"):
        fields = await redis.hkeys(ROOM_KEY + room)
        assert not [f for f in fields if f.startswith("doomed" + ":")]
    assert {m["id"] for m in await two.members("r1")} == {"ana"}
    assert await redis.smembers(PROCS_KEY) == {"one", "two"}
    # The first survivor unlisted it, so the second did not need to read the rooms.
    assert await calls(redis, "scan") == 1

    await redis.config_resetstat()
    await one.tick(leaves)
    await two.tick(leaves)
    assert await calls(redis, "hgetall") == 0, "the tick after the sweep is cheap again"


async def test_the_backstop_clears_a_process_that_never_listed_itself(
    make: Make, redis: aioredis.Redis
) -> None:
    one = await make("one")
    leaves = Leaves()
    await one.tick(leaves)
    await seat(one, "r1", "ana")
    # Entries of a process that crashed between its HSET and its SADD.
    await redis.hset(ROOM_KEY + "r1", "ghost:c-bo", json.dumps(person("bo")))
    await redis.hset(ROOM_KEY + "r2", "ghost:c-cy", json.dumps(person("cy")))

    for _ in range(FULL_SWEEP_EVERY - 1):
        await one.tick(leaves)
    assert leaves.seen == [], "no sweep before the backstop is due"
    assert await redis.hexists(ROOM_KEY + "r1", "ghost:c-bo")

    await one.tick(leaves)
    assert sorted(leaves.seen) == [("r1", "bo"), ("r2", "cy")]
    assert await redis.hkeys(ROOM_KEY + "r1") == ["one:c-ana"]
    assert not await redis.exists(ROOM_KEY + "r2")


async def test_a_restarted_redis_gets_the_process_listed_again(
    make: Make, redis: aioredis.Redis, private_redis: PrivateRedis, caplog: pytest.LogCaptureFixture
) -> None:
    one = await make("one")
    leaves = Leaves()
    await one.tick(leaves)
    await redis.delete(PROCS_KEY)  # a Redis that came back without the set
    await one.tick(leaves)
    assert await redis.smembers(PROCS_KEY) == {"one"}

    private_redis.stop()
    with caplog.at_level(logging.WARNING, logger="tablee.presence"):
        await one.tick(leaves)  # no exception out of the tick
    assert "presence sweep failed" in caplog.text
    private_redis.start()  # empty: this Redis saves nothing
    await one.tick(leaves)
    after: aioredis.Redis = aioredis.from_url(private_redis.url, decode_responses=True)
    try:
        assert await after.smembers(PROCS_KEY) == {"one"}
        assert await after.exists(PROC_KEY + "one")
    finally:
        await after.aclose()


async def test_close_unlists_the_process(make: Make, redis: aioredis.Redis) -> None:
    one, two = await make("one"), await make("two")
    await one.tick(Leaves())
    await two.tick(Leaves())
    await two.close()
    assert await redis.smembers(PROCS_KEY) == {"one"}
    assert not await redis.exists(PROC_KEY + "two")
