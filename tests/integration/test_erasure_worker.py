"""A `tablee worker` and an erased event: a theme job and placements still queued for it are
acknowledged and dropped, nothing of it is written again, nothing is retried or dead-lettered,
and the worker goes on serving the other events; told through Redis, it forgets at once."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from server.erasure import tell_servers
from server.jobs import ThemeJobs
from server.migrate import upgrade_async
from server.placement_stream import PlacementJob, PlacementStream
from server.rooms import Event, Note, Room
from server.settings import load_settings
from server.store import Store
from server.store.erasure import erase_event
from server.worker import JobWorker
from tests.topics import BIKES, MEALS, TREES

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

REDIS = "redis://127.0.0.1:6379/0"
WAIT = 30.0


async def _seeded(store: Store, title: str, texts: list[str]) -> tuple[Event, Room, list[Note]]:
    event, rooms = await store.create_event(title, "hash", [("T1", 8)])
    person = await store.join(event.id, "Ana", "participant", rooms[0].id)
    notes = []
    for text in texts:
        note = (await store.post_note(person, rooms[0], str(uuid.uuid4()), text)).note
        assert note is not None
        notes.append(note)
    return event, rooms[0], notes


def _placements(event: Event, room: Room, notes: list[Note]) -> list[PlacementJob]:
    return [
        PlacementJob("", event.id, n.id, n.text, room.id, n.created_at.timestamp(), "c-test")
        for n in notes
    ]


async def _until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    for _ in range(int(WAIT / 0.1)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(what)


async def test_a_worker_drops_what_was_queued_for_an_erased_event_and_serves_the_rest(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await upgrade_async(postgres_url)
    stream = f"tablee:test:{uuid.uuid4().hex[:8]}"
    settings = load_settings(
        database_url=postgres_url,
        broker_url=REDIS,
        secret_key="k-" + uuid.uuid4().hex,
        worker="external",
        embedding_model="hashing",
        jobs_stream=stream,
        placement_stream=f"{stream}:place",
        placement_max_age_seconds=60,
    )
    store = Store(postgres_url)
    jobs = ThemeJobs(REDIS, stream)
    placements = PlacementStream(REDIS, settings.placement_stream)
    redis = aioredis.from_url(REDIS, decode_responses=True)
    worker = JobWorker(settings, name="w-erasure")
    stop = asyncio.Event()
    running: asyncio.Task[None] | None = None
    try:
        gone, gone_room, gone_notes = await _seeded(store, "Erased", BIKES)
        kept, kept_room, kept_notes = await _seeded(store, "Kept", MEALS)
        # Queued by a server before the erasure; the worker is not running to hear of it.
        await jobs.enqueue(gone.id)
        assert await erase_event(store, gone.id) is not None
        running = asyncio.create_task(worker.run(stop))
        assert await worker.themes.wait_ready()

        async def grouped() -> bool:
            try:
                return bool(await redis.xinfo_groups(settings.placement_stream))
            except ResponseError:
                return False

        await _until(grouped, "the worker's placement group")
        await placements.enqueue(_placements(gone, gone_room, gone_notes[:3]))
        await placements.enqueue(_placements(kept, kept_room, kept_notes[:3]))
        await jobs.enqueue(kept.id)

        async def served() -> bool:
            return (
                await store.themes.version(kept.id) is not None
                and worker.placements.placed >= 3
                and worker.placements.dropped >= 3
            )

        await _until(served, "the kept event's themes and placements")

        async def acknowledged() -> bool:
            return (await jobs.stats())["pending"] == 0 and (await placements.stats()) == {
                "lag": 0,
                "pending": 0,
            }

        await _until(acknowledged, "every job and placement acknowledged")
        assert worker.themes.erased(gone.id)
        assert await store.themes.version(gone.id) is None
        assert await jobs.dead_letters() == []

        # Told this time, as a server's DELETE or `tablee delete-event` tells it.
        told, _, _ = await _seeded(store, "Told", TREES)
        await jobs.enqueue(told.id)

        async def themed() -> bool:
            return await store.themes.version(told.id) is not None

        await _until(themed, "the third event's themes")
        assert await erase_event(store, told.id) is not None
        assert await tell_servers(settings, told.id) == 1  # this worker; no server runs

        async def forgotten() -> bool:
            return worker.themes.erased(told.id)

        await _until(forgotten, "the worker forgetting the told event")
        await jobs.enqueue(told.id)
        handled = worker.handled
        await jobs.enqueue(kept.id)
        version = await store.themes.version(kept.id)

        async def both_handled() -> bool:
            return worker.handled >= handled + 2

        await _until(both_handled, "the later jobs handled")
        await _until(acknowledged, "the later jobs acknowledged")
        assert await store.themes.version(told.id) is None
        assert (await store.themes.version(kept.id) or 0) > (version or 0)  # still served
        assert await jobs.dead_letters() == []
        noisy = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert noisy == [], [r.getMessage() for r in noisy]
    finally:
        stop.set()
        if running is not None:
            await asyncio.wait_for(running, WAIT)
        await worker.close()
        await store.close()
        await jobs.close()
        await placements.close()
        await redis.delete(stream, f"{stream}:dead", settings.placement_stream)
        await redis.aclose()
