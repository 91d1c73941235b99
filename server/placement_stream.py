"""Placement requests on a Redis Stream of their own, shared by `tablee worker` processes.

Separate from the theme jobs so that placing a note (tens of milliseconds) never waits
behind a re-clustering (seconds). Placements are hints that the next re-clustering
supersedes, so this queue is kept simple where the jobs' is careful: the stream is capped,
an entry is acknowledged once its frames are published, and one older than the allowed age,
including any a dead worker left pending, is dropped rather than retried.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

from .consumer_group import ConsumerGroup

GROUP = "tablee-placers"
STREAM_MAX = 10_000  # approximate cap: minutes of an assembly's notes, then trimmed
DROP_PAGE = 1_000  # entries read per round trip when an erased event's are deleted


class PlacementStreamError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class PlacementJob:
    id: str
    event_id: str
    note_id: str
    text: str
    room_id: str
    created_at: float  # the note's, seconds since the epoch
    conn_id: str  # the author's connection: `note.similar` goes to it alone
    step_id: str | None = None  # the agenda step the note was written in

    @property
    def queued_at(self) -> float:
        """When Redis took the entry, by Redis's clock: the entry id starts with it."""
        return int(self.id.split("-", 1)[0]) / 1000


def _job(entry_id: str, fields: dict[str, str]) -> PlacementJob:
    return PlacementJob(
        entry_id,
        fields.get("event", ""),
        fields.get("note", ""),
        fields.get("text", ""),
        fields.get("room", ""),
        float(fields.get("created", "0") or 0),
        fields.get("conn", ""),
        fields.get("step") or None,
    )


class PlacementStream(ConsumerGroup):
    def __init__(self, url: str, stream: str, *, group: str = GROUP) -> None:
        super().__init__(url, stream, group)

    async def enqueue(self, jobs: Sequence[PlacementJob]) -> None:
        """Queue a batch in one round trip; the ids given are ignored."""
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for job in jobs:
                    pipe.xadd(
                        self.stream,
                        {
                            "event": job.event_id,
                            "note": job.note_id,
                            "text": job.text,
                            "room": job.room_id,
                            "created": f"{job.created_at:.3f}",
                            "conn": job.conn_id,
                            "step": job.step_id or "",
                        },
                        maxlen=STREAM_MAX,
                        approximate=True,
                    )
                await pipe.execute()
        except (RedisError, OSError) as exc:
            raise PlacementStreamError(str(exc)) from None

    async def ensure_group(self) -> None:
        # From now on: a placement queued before any worker listened is stale anyway.
        await self._create_group("$")

    async def read(self, consumer: str, *, count: int, block_ms: int) -> list[PlacementJob]:
        return [_job(i, f) for i, f in await self._read(consumer, count=count, block_ms=block_ms)]

    async def drop_abandoned(self, consumer: str, *, min_idle_ms: int, count: int = 100) -> int:
        """Acknowledge, unhandled, what a dead worker left pending longer than `min_idle_ms`."""
        reply: Any = await self._client.xautoclaim(
            self.stream, self.group, consumer, min_idle_ms, "0-0", count=count, justid=True
        )
        ids = [str(i) for i in reply or ()]  # with justid, redis-py returns the ids alone
        await self.ack(*ids)
        return len(ids)

    async def drop_event(self, event_id: str) -> int:
        """Delete the event's entries, read or not, from the stream: each holds a note's text,
        and a quiet server may not trim them for weeks. How many were deleted."""
        dropped, start = 0, "-"
        try:
            while True:
                # At most STREAM_MAX entries and change: read through once, a page at a time.
                page: Any = await self._client.xrange(
                    self.stream, min=start, max="+", count=DROP_PAGE
                )
                ids = [i for i, fields in page if fields.get("event") == event_id]
                if ids:
                    dropped += int(await self._client.xdel(self.stream, *ids))
                if len(page) < DROP_PAGE:
                    return dropped
                start = "(" + str(page[-1][0])  # exclusive: after the last entry read
        except (RedisError, OSError) as exc:
            raise PlacementStreamError(str(exc)) from None

    async def redis_time(self) -> float:
        """Redis's clock, to compare with entry ids whatever this host's clock says."""
        seconds, micros = await self._client.time()
        return float(seconds) + float(micros) / 1e6
