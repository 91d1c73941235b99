"""Theme jobs on a Redis Stream with a consumer group.

A job says "the notes of event E changed". Delivery is at least once: a job is acknowledged
only after the themes it asked for are stored; a worker that dies leaves its jobs pending,
and another claims them after an idle time; a job that keeps failing goes to a dead-letter
stream that operators can read. Handling a job is idempotent (themes are recomputed from
the stored notes), so a job handled twice does no harm.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

from .consumer_group import ConsumerGroup

GROUP = "tablee-themers"
STREAM_MAX = 100_000  # approximate cap: the stream is a queue, not an archive


class JobsError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    event_id: str
    enqueued_at: float


def _job(entry_id: str, fields: dict[str, str]) -> Job:
    return Job(entry_id, fields.get("event", ""), float(fields.get("at", "0") or 0))


class ThemeJobs(ConsumerGroup):
    def __init__(self, url: str, stream: str, *, group: str = GROUP) -> None:
        super().__init__(url, stream, group)
        self.dead = f"{stream}:dead"

    async def enqueue(self, event_id: str) -> str:
        try:
            entry: Any = await self._client.xadd(
                self.stream,
                {"event": event_id, "at": f"{time.time():.3f}"},
                maxlen=STREAM_MAX,
                approximate=True,
            )
        except (RedisError, OSError) as exc:
            raise JobsError(str(exc)) from None
        return str(entry)

    async def ensure_group(self) -> None:
        # From the stream's start: jobs queued before any worker existed are kept.
        await self._create_group("0")

    async def read(self, consumer: str, *, count: int, block_ms: int) -> list[Job]:
        return [_job(i, f) for i, f in await self._read(consumer, count=count, block_ms=block_ms)]

    async def claim_stale(self, consumer: str, *, min_idle_ms: int, count: int) -> list[Job]:
        """Take over jobs another consumer (or this one) left unacknowledged too long."""
        reply = await self._client.xautoclaim(
            self.stream, self.group, consumer, min_idle_ms, "0-0", count=count
        )
        entries = reply[1] if len(reply) > 1 else []
        return [_job(i, f) for i, f in entries if f is not None]

    async def deliveries(self, job_id: str) -> int:
        rows = await self._client.xpending_range(self.stream, self.group, job_id, job_id, 1)
        return int(rows[0]["times_delivered"]) if rows else 0

    async def dead_letter(self, job: Job, attempts: int, reason: str) -> None:
        await self._client.xadd(
            self.dead,
            {
                "job": job.id,
                "event": job.event_id,
                "attempts": str(attempts),
                "reason": reason[:500],
                "at": f"{time.time():.3f}",
            },
            maxlen=STREAM_MAX,
            approximate=True,
        )
        await self.ack(job.id)

    async def dead_letters(self, count: int = 100) -> list[dict[str, Any]]:
        rows: Any = await self._client.xrange(self.dead, count=count)
        return [{"id": i, **f} for i, f in rows]
