"""A Redis Stream read through a consumer group: what the theme jobs and placements share."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError


class ConsumerGroup:
    def __init__(self, url: str, stream: str, group: str) -> None:
        self._client: aioredis.Redis = aioredis.from_url(
            url, decode_responses=True, socket_connect_timeout=2, health_check_interval=10
        )
        self.stream = stream
        self.group = group

    async def close(self) -> None:
        await self._client.aclose()

    async def _create_group(self, start: str) -> None:
        try:
            await self._client.xgroup_create(self.stream, self.group, id=start, mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _read(
        self, consumer: str, *, count: int, block_ms: int
    ) -> list[tuple[str, dict[str, str]]]:
        reply: Any = await self._client.xreadgroup(
            self.group, consumer, {self.stream: ">"}, count=count, block=block_ms
        )
        return [(i, f) for _, entries in (reply or []) for i, f in entries]

    async def ack(self, *entry_ids: str) -> None:
        if entry_ids:
            await self._client.xack(self.stream, self.group, *entry_ids)

    async def stats(self) -> dict[str, int]:
        """Queue depth: entries not yet delivered (lag) and delivered but unacknowledged."""
        try:
            groups = await self._client.xinfo_groups(self.stream)
        except ResponseError:
            return {"lag": 0, "pending": 0}
        for g in groups:
            if g.get("name") == self.group:
                return {"lag": int(g.get("lag") or 0), "pending": int(g.get("pending") or 0)}
        return {"lag": 0, "pending": 0}
