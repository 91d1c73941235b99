"""Where presence is kept: in this process, or in Redis for several processes.

With Redis, each connection's entry is tagged with its process; a process refreshes a
liveness key every heartbeat and lists itself in a set of processes. Entries of a process
that died (no close frames, no cleanup) are swept by the survivors, who announce the leaves,
so no ghost stays at a table. A tick reads the set and the liveness keys only; the room
hashes are read when a listed process has died, and now and then as a backstop.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from .presence import Presence

log = logging.getLogger("tablee.presence")

Member = dict[str, Any]
AnnounceLeave = Callable[[str, Member], Awaitable[None]]


class PresenceRegistry(Protocol):
    async def join(self, room: str, member: Member, conn: str) -> Member | None: ...

    async def leave(self, room: str, member_id: str, conn: str) -> Member | None: ...

    async def members(self, room: str) -> list[Member]: ...

    async def tick(self, announce_leave: AnnounceLeave) -> None:
        """Called every heartbeat: keep this process alive, clear the dead ones' entries."""
        ...

    async def close(self) -> None: ...


class LocalPresence:
    def __init__(self) -> None:
        self._presence = Presence()

    async def join(self, room: str, member: Member, conn: str) -> Member | None:
        return self._presence.join(room, member, conn)

    async def leave(self, room: str, member_id: str, conn: str) -> Member | None:
        return self._presence.leave(room, member_id, conn)

    async def members(self, room: str) -> list[Member]:
        return self._presence.members(room)

    async def tick(self, announce_leave: AnnounceLeave) -> None:
        return None

    async def close(self) -> None:
        return None


ROOM_KEY = "tablee:presence:"
PROC_KEY = "tablee:proc:"
PROCS_KEY = "tablee:procs"
SWEEP_BATCH = 200
# A process that wrote entries but is not in PROCS_KEY (it crashed between its first HSET
# and SADD, or Redis lost the set but kept the hashes) is only found by reading every room;
# every 20th tick (~2.5 min at the default heartbeat) that is done anyway.
FULL_SWEEP_EVERY = 20


class RedisPresence:
    def __init__(self, url: str, origin: str, heartbeat: float) -> None:
        self._client: aioredis.Redis = aioredis.from_url(
            url, decode_responses=True, socket_connect_timeout=2
        )
        self._origin = origin
        self._ttl_ms = max(int(heartbeat * 3000), 1000)
        self._local = Presence()  # this process's own connections, for the arrival checks
        # Reset only by a sweep that finished, so a Redis error does not put the backstop off
        # by another FULL_SWEEP_EVERY ticks. Starting due makes the first tick sweep: what an
        # earlier crash left behind is cleared at start.
        self._ticks_since_sweep = FULL_SWEEP_EVERY

    async def _alive(self, origins: set[str]) -> set[str]:
        ordered = sorted(origins)
        if not ordered:
            return set()
        flags = await self._client.mget([PROC_KEY + o for o in ordered])
        return {o for o, flag in zip(ordered, flags, strict=True) if flag is not None}

    async def _hash(self, room: str) -> dict[str, str]:
        raw: Any = await self._client.hgetall(ROOM_KEY + room)
        return dict(raw)

    async def _entries(self, room: str) -> list[tuple[str, Member]]:
        raw = await self._hash(room)
        return [(field.split(":", 1)[0], json.loads(value)) for field, value in raw.items()]

    async def join(self, room: str, member: Member, conn: str) -> Member | None:
        self._local.join(room, member, conn)
        try:
            entries = await self._entries(room)
            await self._client.hset(ROOM_KEY + room, f"{self._origin}:{conn}", json.dumps(member))
        except (RedisError, OSError) as exc:
            log.warning("presence unavailable: %s", exc)
            return member
        alive = await self._alive({o for o, _ in entries})
        already = any(m["id"] == member["id"] for o, m in entries if o in alive)
        return None if already else member

    async def leave(self, room: str, member_id: str, conn: str) -> Member | None:
        member = self._local.leave(room, member_id, conn)
        try:
            await self._client.hdel(ROOM_KEY + room, f"{self._origin}:{conn}")
            entries = await self._entries(room)
            alive = await self._alive({o for o, _ in entries})
        except (RedisError, OSError) as exc:
            log.warning("presence unavailable: %s", exc)
            return member
        if any(m["id"] == member_id for o, m in entries if o in alive):
            return None  # still here through another connection or process
        return member

    async def members(self, room: str) -> list[Member]:
        try:
            entries = await self._entries(room)
            alive = await self._alive({o for o, _ in entries})
        except (RedisError, OSError):
            return self._local.members(room)
        seen: dict[str, Member] = {}
        for origin, member in entries:
            if origin in alive:
                seen.setdefault(str(member["id"]), member)
        return list(seen.values())

    async def tick(self, announce_leave: AnnounceLeave) -> None:
        self._ticks_since_sweep += 1
        try:
            dead = await self._refresh()
            if not dead and self._ticks_since_sweep < FULL_SWEEP_EVERY:
                return
            await self._sweep_all(announce_leave)
            self._ticks_since_sweep = 0
            if dead:
                # Their entries are gone now, so the next tick is cheap again. One that was
                # only slow, not dead, lists itself again on its own next tick.
                await self._client.srem(PROCS_KEY, *sorted(dead))
        except (RedisError, OSError) as exc:
            log.warning("presence sweep failed: %s", exc)

    async def _refresh(self) -> set[str]:
        """Keep this process alive and listed; answer the listed processes that are not."""
        # SADD every tick, not once: a Redis that restarted without the set gets it back.
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.set(PROC_KEY + self._origin, "1", px=self._ttl_ms)
            pipe.sadd(PROCS_KEY, self._origin)
            pipe.smembers(PROCS_KEY)
            *_, listed = await pipe.execute()
        others = set(listed) - {self._origin}
        return others - await self._alive(others)

    async def _sweep_all(self, announce_leave: AnnounceLeave) -> None:
        batch: list[str] = []
        async for key in self._client.scan_iter(match=ROOM_KEY + "*", count=SWEEP_BATCH):
            batch.append(key)
            if len(batch) >= SWEEP_BATCH:
                await self._sweep(batch, announce_leave)
                batch = []
        if batch:
            await self._sweep(batch, announce_leave)

    async def _sweep(self, keys: list[str], announce_leave: AnnounceLeave) -> None:
        # A few round trips per batch of rooms, not two per room: a sweep stays flat as an
        # assembly grows.
        async with self._client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hgetall(key)
            hashes: list[dict[str, str]] = [dict(h) for h in await pipe.execute()]
        alive = await self._alive({f.split(":", 1)[0] for raw in hashes for f in raw})
        for key, raw in zip(keys, hashes, strict=True):
            dead = [f for f in raw if f.split(":", 1)[0] not in alive]
            if not dead:
                continue
            # HDEL answers how many it removed: only the process that removed an entry
            # announces it, so a leave is not announced once per surviving process.
            removed = [f for f in dead if await self._client.hdel(key, f)]
            remaining = {json.loads(v)["id"] for f, v in raw.items() if f not in dead}
            for field in removed:
                member = json.loads(raw[field])
                if member["id"] not in remaining:
                    await announce_leave(key[len(ROOM_KEY) :], member)

    async def close(self) -> None:
        with contextlib.suppress(RedisError, OSError):
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.delete(PROC_KEY + self._origin)
                pipe.srem(PROCS_KEY, self._origin)
                await pipe.execute()
        await self._client.aclose()
