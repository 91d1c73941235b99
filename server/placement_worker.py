"""In `tablee worker`: places the notes queued on the placement stream and announces them.

Workers share the stream through a consumer group, so the notes of one event are placed by
whichever worker reads them, and the re-clusterings that give the centres may have run on
another worker. Before each batch a worker therefore reads from the database what changed
in the event since its last look (notes posted or edited through other workers, a newer
stored theme snapshot) and takes it into its placement cache: a twin posted a second ago
and placed elsewhere is found, and notes join the themes the facilitators currently see.

A worker that meets an event for the first time embeds a bounded sample (every theme's
representatives, then the newest notes) rather than the whole wall, so its first placement
takes seconds, not minutes, with a real model; its own next run of the event fills the rest.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from nlp.incremental import warm_sample
from nlp.refresh import themes_from_payload
from nlp.themes import NoteInput, ThemeSet
from nlp.worker import ThemeWorker

from .broker import Broker, BrokerError
from .hub import pack, themes_channel
from .placement import connection_channel, placement_frames
from .placement_stream import PlacementJob, PlacementStream
from .store import Store
from .store.models import EventRow, NoteRow, ThemeSnapshotRow

log = logging.getLogger("tablee.worker")

READ_BATCH = 64  # notes read, embedded and placed together
# Notes committed with a clock a little behind, or a transaction a little slow, still show
# up: each look reaches this far behind the newest change already seen.
SYNC_OVERLAP = timedelta(seconds=5)
WARM_LIMIT = 1_000
FORGET_AFTER = 3600.0  # seconds without a placement before an event's sync state is dropped


@dataclass
class _Seen:
    changed: datetime | None = None  # newest note change taken in
    version: int = -1  # latest theme snapshot taken in
    used: float = 0.0


class PlacementConsumer:
    def __init__(
        self,
        stream: PlacementStream,
        store: Store,
        themes: ThemeWorker,
        broker: Broker,
        *,
        origin: str,
        name: str,
        max_age: float,
        warm_limit: int = WARM_LIMIT,
    ) -> None:
        self.stream = stream
        self.store = store
        self.themes = themes
        self.broker = broker
        self.origin = origin
        self.name = name
        self.max_age = max_age
        self.warm_limit = warm_limit
        self._seen: dict[str, _Seen] = {}
        self._clock_offset = 0.0  # Redis's clock minus this host's
        self.placed = 0
        self.dropped = 0

    async def run(self, stop: asyncio.Event) -> None:
        last_cleanup = 0.0
        grouped = False
        while not stop.is_set():
            try:
                if not grouped:
                    # Again after any failure: a Redis that restarted empty lost the group.
                    await self.stream.ensure_group()
                    grouped = True
                if time.monotonic() - last_cleanup > self.max_age:
                    last_cleanup = time.monotonic()
                    await self._cleanup()
                jobs = await self.stream.read(self.name, count=READ_BATCH, block_ms=500)
                if jobs:
                    await self.handle(jobs)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("placement loop failed; retrying")
                grouped = False
                await asyncio.sleep(1)

    async def _cleanup(self) -> None:
        self._clock_offset = await self.stream.redis_time() - time.time()
        abandoned = await self.stream.drop_abandoned(
            self.name, min_idle_ms=int(self.max_age * 1000)
        )
        if abandoned:
            self.dropped += abandoned
            log.info("dropped %d placements a stopped worker left unhandled", abandoned)
        horizon = time.monotonic() - FORGET_AFTER
        for event_id in [e for e, s in self._seen.items() if s.used < horizon]:
            del self._seen[event_id]

    async def handle(self, jobs: Sequence[PlacementJob]) -> None:
        """Place and announce a batch read from the stream, then acknowledge all of it."""
        now = time.time() + self._clock_offset
        by_event: dict[str, list[PlacementJob]] = defaultdict(list)
        stale = 0
        for job in jobs:
            if now - job.queued_at > self.max_age or not job.event_id or not job.note_id:
                stale += 1
            else:
                by_event[job.event_id].append(job)
        if stale:
            self.dropped += stale
            log.info("dropped %d placements older than %.0f s", stale, self.max_age)
        for event_id, batch in by_event.items():
            try:
                await self._place(event_id, batch)
            except Exception:
                # Not retried: the next re-clustering themes these notes anyway.
                log.exception("placing %d notes of event %s failed", len(batch), event_id)
        await self.stream.ack(*(j.id for j in jobs))

    def forget(self, event_id: str) -> None:
        """The event was erased: what was read of it goes."""
        self._seen.pop(event_id, None)

    async def _place(self, event_id: str, batch: list[PlacementJob]) -> None:
        started = time.perf_counter()
        if self.themes.erased(event_id) or not await self._sync(
            event_id, {j.note_id for j in batch}
        ):
            # Erased after these notes were queued: acknowledged with the batch, never placed.
            self.dropped += len(batch)
            return
        notes = [NoteInput(j.note_id, j.text, j.room_id, j.created_at) for j in batch]
        placed = await self.themes.place(event_id, notes)
        for job, placement in zip(batch, placed, strict=True):
            assigned, similar = await placement_frames(
                self.store, job.note_id, job.text, job.room_id, job.step_id, placement
            )
            try:
                await self.broker.publish(themes_channel(event_id), pack(self.origin, assigned))
                if similar is not None:
                    await self.broker.publish(
                        connection_channel(job.conn_id), pack(self.origin, similar)
                    )
            except BrokerError as exc:
                log.warning("could not announce a placement: %s", exc)
        self.placed += len(placed)
        log.debug(
            "placed %d notes of event %s in %.0f ms",
            len(placed),
            event_id,
            (time.perf_counter() - started) * 1000,
        )

    async def _sync(self, event_id: str, exclude: set[str]) -> bool:
        """Take in what changed in the event since the last look, but for `exclude`; False
        when the event no longer exists (then forgotten here and by the theme worker)."""
        seen = self._seen.get(event_id)
        first = seen is None
        if seen is None:
            seen = self._seen[event_id] = _Seen()
        seen.used = time.monotonic()
        query = select(
            NoteRow.id, NoteRow.text, NoteRow.room_id, NoteRow.created_at, NoteRow.updated_at
        ).where(NoteRow.event_id == event_id, NoteRow.deleted_at.is_(None))
        if seen.changed is not None:
            query = query.where(NoteRow.updated_at > seen.changed - SYNC_OVERLAP)
        async with self.store.engine.connect() as db:
            exists = await db.scalar(select(EventRow.id).where(EventRow.id == event_id))
            if exists is None:
                self.forget(event_id)
                await self.themes.forget(event_id)
                return False
            version = await db.scalar(
                select(func.max(ThemeSnapshotRow.version)).where(
                    ThemeSnapshotRow.event_id == event_id
                )
            )
            rows = (await db.execute(query)).all()
        themes: ThemeSet | None = None
        if version is not None and version > seen.version:
            payload = await self.store.themes.latest(event_id)
            if payload is not None:
                themes = themes_from_payload(payload)
                seen.version = themes.version
        notes = [
            NoteInput(str(r[0]), str(r[1]), str(r[2]), r[3].timestamp() if r[3] else 0.0)
            for r in rows
            if str(r[0]) not in exclude
        ]
        changed = [r[4] for r in rows if r[4] is not None]
        if changed:
            newest = max(changed)
            seen.changed = newest if seen.changed is None else max(seen.changed, newest)
        if first:
            notes = warm_sample(notes, themes, limit=self.warm_limit)
        if notes or themes is not None:
            await self.themes.absorb(event_id, notes, themes)
        return True
