"""Where presence is kept: in this process, or in Redis for several processes.

With Redis, each connection's entry is tagged with its process; a process refreshes a
liveness key every heartbeat. Entries of a process that died (no close frames, no cleanup)
are swept by the survivors, who announce the leaves, so no ghost stays at a table.
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
SWEEP_BATCH = 200


class RedisPresence:
    def __init__(self, url: str, origin: str, heartbeat: float) -> None:
        self._client: aioredis.Redis = aioredis.from_url(
            url, decode_responses=True, socket_connect_timeout=2
        )
        self._origin = origin
        self._ttl_ms = max(int(heartbeat * 3000), 1000)
        self._local = Presence()  # this process's own connections, for the arrival checks

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
        try:
            await self._client.set(PROC_KEY + self._origin, "1", px=self._ttl_ms)
            batch: list[str] = []
            async for key in self._client.scan_iter(match=ROOM_KEY + "*", count=SWEEP_BATCH):
                batch.append(key)
                if len(batch) >= SWEEP_BATCH:
                    await self._sweep(batch, announce_leave)
                    batch = []
            if batch:
                await self._sweep(batch, announce_leave)
        except (RedisError, OSError) as exc:
            log.warning("presence sweep failed: %s", exc)

    async def _sweep(self, keys: list[str], announce_leave: AnnounceLeave) -> None:
        # Every process sweeps every room each tick: a few round trips per batch of rooms,
        # not two per room, keeps that flat as an assembly grows.
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
            await self._client.delete(PROC_KEY + self._origin)
        await self._client.aclose()
