"""`tablee worker`: a theme worker process consuming jobs from Redis.

Several can run side by side; they share the jobs through the consumer group. Themes they
make are stored, then published on the event's themes channel for every server process.
A periodic sweep re-queues events whose notes changed after their latest themes, so a job
lost with Redis is made up for. An event erased on a server is forgotten here too (the
ERASED order); a job or placement of it still queued is acknowledged and dropped.

Beside the jobs, each worker places new notes from the placement stream
(`server/placement_worker.py`) in a task of its own, so a placement never waits for the
job loop's re-clustering.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections import defaultdict

from nlp.factory import make_pipeline
from nlp.runner import ThreadRunner
from nlp.worker import ThemeWorker

from .erasure import ERASED
from .hub import pack, unpack
from .jobs import Job, ThemeJobs
from .placement_stream import PlacementStream
from .placement_worker import PlacementConsumer
from .redis_broker import RedisBroker
from .settings import Settings, SettingsError
from .store import Store
from .theme_updates import publish_update

log = logging.getLogger("tablee.worker")


class JobWorker:
    def __init__(self, settings: Settings, *, name: str | None = None) -> None:
        if not settings.broker_url.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError("tablee worker needs TABLEE_BROKER_URL=redis://…")
        self.settings = settings
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self.store = Store(settings.database_url)
        self.jobs = ThemeJobs(settings.broker_url, settings.jobs_stream)
        self.broker = RedisBroker(settings.broker_url)
        self.origin = "w" + uuid.uuid4().hex[:11]
        model, weight = settings.embedding_model, settings.theme_word_weight
        # This process exists for the pipeline, so a thread of its own is enough.
        self.themes = ThemeWorker(
            self.store.themes, self._publish, ThreadRunner(lambda: make_pipeline(model, weight))
        )
        self.placements = PlacementConsumer(
            PlacementStream(settings.broker_url, settings.placement_stream),
            self.store,
            self.themes,
            self.broker,
            origin=self.origin,
            name=self.name,
            max_age=settings.placement_max_age_seconds,
        )
        self.handled = 0
        self._forgetting: set[asyncio.Task[None]] = set()

    async def _publish(self, event_id: str, snapshot: str, diff: str | None) -> None:
        async def send(channel: str, frame: str) -> None:
            await self.broker.publish(channel, pack(self.origin, frame))

        await publish_update(event_id, snapshot, diff, self.broker.heard_elsewhere, send)

    def _on_order(self, channel: str, message: str) -> None:
        if channel != ERASED:
            return
        _, _, _, event_id = unpack(message)
        task = asyncio.get_running_loop().create_task(self.forget(event_id))
        self._forgetting.add(task)  # held until done: the loop keeps only a weak reference
        task.add_done_callback(self._forgetting.discard)

    async def forget(self, event_id: str) -> None:
        """The event was erased: its notes' vectors and texts go, and nothing of it comes back."""
        self.placements.forget(event_id)
        await self.themes.forget(event_id)
        log.info("event %s was erased; its theme state is dropped", event_id)

    async def run(self, stop: asyncio.Event) -> None:
        await self.broker.subscribe(ERASED)
        await self.broker.start(self._on_order, lambda: None)
        await self.jobs.ensure_group()
        await self.themes.start()
        if not await self.themes.wait_ready():
            raise RuntimeError("the theme pipeline failed to load")
        placing = asyncio.create_task(self.placements.run(stop))
        log.info("worker %s ready", self.name)
        try:
            await self._jobs_loop(stop)
        finally:
            placing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await placing

    async def _jobs_loop(self, stop: asyncio.Event) -> None:
        s = self.settings
        last_sweep = 0.0
        while not stop.is_set():
            try:
                batch = await self.jobs.claim_stale(
                    self.name, min_idle_ms=int(s.worker_claim_idle_seconds * 1000), count=16
                )
                if not batch:
                    batch = await self.jobs.read(self.name, count=16, block_ms=500)
                await self._handle(batch)
                if time.monotonic() - last_sweep > s.worker_sweep_seconds:
                    last_sweep = time.monotonic()
                    for event_id in await self.store.themes.events_needing_refresh():
                        await self.jobs.enqueue(event_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("worker loop failed; retrying")
                await asyncio.sleep(1)

    async def _handle(self, batch: list[Job]) -> None:
        # Jobs for one event are one refresh: the themes cover every stored note anyway.
        by_event: dict[str, list[Job]] = defaultdict(list)
        for job in batch:
            by_event[job.event_id].append(job)
        for event_id, jobs in by_event.items():
            attempts = max([await self.jobs.deliveries(j.id) for j in jobs] or [1])
            if attempts > self.settings.worker_max_attempts or not event_id:
                for job in jobs:
                    await self.jobs.dead_letter(job, attempts, "too many failed attempts")
                log.error("event %s: jobs moved to the dead-letter stream", event_id or "?")
                continue
            log.info("refreshing themes of event %s (%d jobs)", event_id, len(jobs))
            try:
                await self.themes.refresh(event_id)
            except Exception as exc:
                # Left pending: claimed again after the idle time, counted as an attempt.
                log.warning("event %s: theme job failed (attempt %d): %s", event_id, attempts, exc)
                continue
            await self.jobs.ack(*(j.id for j in jobs))
            self.handled += len(jobs)

    async def close(self) -> None:
        await self.placements.stream.close()
        await self.themes.close()
        await self.broker.close()
        await self.jobs.close()
        await self.store.close()


def main(settings: Settings) -> int:
    async def _run() -> None:
        worker = JobWorker(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        import signal

        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        try:
            await worker.run(stop)
        finally:
            await worker.close()

    asyncio.run(_run())
    return 0
