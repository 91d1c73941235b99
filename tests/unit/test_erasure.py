"""Erasing an event, the parts without a database: the theme worker forgets the event and
takes nothing more of it, pending actions are dropped, a connection let in just before the
close is closed as it starts listening, and the counts' wire form."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from nlp.debounce import Debouncer
from nlp.factory import make_pipeline
from nlp.runner import PipelineHost, ThreadRunner
from nlp.steering import Edit
from nlp.themes import NoteInput
from nlp.worker import EventGone, ThemeWorker
from server.erasure import CLOSE_EVENT_DELETED, deleted_frame
from server.hub import CLOSINGS, Hub, event_channel
from server.store.erasure import EventCounts
from tests.topics import BIKES, MEALS
from tests.unit.test_hub import FakeStore, SharedBroker, connection
from tests.unit.test_refresh import MemoryThemes, Rec, _records


class ErasedThemes(MemoryThemes):
    """A store whose event was erased after the worker first read it."""

    def __init__(self, records: list[Rec]) -> None:
        super().__init__(records)
        self.erased = False

    async def save(
        self, event_id: str, version: int, payload: str, notes_read_at: datetime
    ) -> bool:
        if self.erased:
            raise EventGone(event_id)
        return await super().save(event_id, version, payload, notes_read_at)

    async def edits(self, event_id: str) -> list[Edit]:
        return []


class RecordingRunner(ThreadRunner):
    def __init__(self) -> None:
        super().__init__(lambda: make_pipeline("hashing"))
        self.forgotten: list[str] = []

    async def forget(self, event_id: str) -> None:
        self.forgotten.append(event_id)
        await super().forget(event_id)


def _inputs(texts: list[str], prefix: str) -> list[NoteInput]:
    return [NoteInput(f"{prefix}{i}", t, "r1", 1_700_000_000.0 + i) for i, t in enumerate(texts)]


async def test_a_worker_that_finds_its_event_erased_forgets_it_and_takes_nothing_more() -> None:
    store = ErasedThemes(_records(BIKES + MEALS, "n"))
    published: list[str] = []

    async def publish(event_id: str, text: str, diff: str | None) -> None:
        published.append(event_id)

    runner = RecordingRunner()
    worker = ThemeWorker(store, publish, runner, debounce=0.01, max_wait=0.05)
    await worker.start()
    assert await worker.wait_ready()
    try:
        assert await worker.refresh("e") is not None
        assert await worker.latest_text("e") is not None
        # Erased elsewhere; this worker was not told. Its next run finds out on storing.
        store.erased = True
        store.records.append(_records(["one more bike lane"], "late", 99)[0])
        assert await worker.refresh("e") is None
        assert worker.erased("e") and runner.forgotten == ["e"]
        assert published == ["e"]  # the first run's themes only
        assert await worker.latest_text("e") is None
        # Late arrivals for it change nothing and fail nowhere.
        worker.notify("e")
        await asyncio.sleep(0.2)
        assert await worker.refresh("e") is None
        assert await worker.place("e", _inputs(["a late note"], "x")) == []
        assert await worker.absorb("e", _inputs(["another"], "y"), None) == 0
        assert await worker.split("e", ["n0", "n1"]) is None
        assert published == ["e"] and list(store.saved) == [1]
        # Other events are served as before.
        assert await worker.place("f", _inputs(BIKES, "f")) != []
    finally:
        await worker.close()


async def test_forgetting_an_event_drops_its_vectors_and_a_pending_run() -> None:
    store = MemoryThemes(_records(BIKES, "n"))
    runs: list[str] = []

    async def publish(event_id: str, text: str, diff: str | None) -> None:
        runs.append(event_id)

    worker = ThemeWorker(store, publish, RecordingRunner(), debounce=0.2, max_wait=1.0)
    await worker.start()
    assert await worker.wait_ready()
    try:
        await worker.place("e", _inputs(MEALS, "m"))
        worker.notify("e")  # a run is due in 0.2 s
        await worker.forget("e")
        await asyncio.sleep(0.5)
        assert runs == [] and store.saved == {}
    finally:
        await worker.close()


class GatedThemes(MemoryThemes):
    """Holds the worker's read of the notes until let go."""

    def __init__(self, records: list[Rec]) -> None:
        super().__init__(records)
        self.reading = asyncio.Event()
        self.go = asyncio.Event()

    async def notes(self, event_id: str) -> list[Rec]:
        self.reading.set()
        await self.go.wait()
        return await super().notes(event_id)


async def test_an_erasure_in_the_middle_of_a_run_leaves_nothing_behind_it() -> None:
    store = GatedThemes(_records(BIKES + MEALS, "n"))
    published: list[str] = []

    async def publish(event_id: str, text: str, diff: str | None) -> None:
        published.append(event_id)

    runner = RecordingRunner()
    worker = ThemeWorker(store, publish, runner)
    await worker.start()
    assert await worker.wait_ready()
    try:
        run = asyncio.create_task(worker.refresh("e"))
        await store.reading.wait()
        await worker.forget("e")
        store.go.set()
        assert await run is None
        # Forgotten again once the run, which had its own hold on the event, was over.
        assert runner.forgotten == ["e", "e"]
        assert published == [] and store.saved == {}
    finally:
        await worker.close()


class GatedErasure(ErasedThemes):
    """Holds the worker's read of the changed notes until let go; once erased, its rows
    (the stored themes among them) are gone."""

    def __init__(self, records: list[Rec]) -> None:
        super().__init__(records)
        self.reading = asyncio.Event()
        self.go = asyncio.Event()
        self.go.set()

    async def changed_notes(
        self, event_id: str, since: datetime
    ) -> tuple[Sequence[Rec], Sequence[str]]:
        self.reading.set()
        await self.go.wait()
        return await super().changed_notes(event_id, since)

    async def latest_text(self, event_id: str) -> str | None:
        return None if self.erased else await super().latest_text(event_id)


async def test_an_erasure_during_a_later_runs_reads_ends_it_quietly() -> None:
    """The worker holds themes of the event; erased while the next run reads its notes, the
    runner has forgotten what that run builds on, and the run ends without an error."""
    store = GatedErasure(_records(BIKES, "n"))
    published: list[str] = []

    async def publish(event_id: str, text: str, diff: str | None) -> None:
        published.append(event_id)

    worker = ThemeWorker(store, publish, RecordingRunner())
    await worker.start()
    assert await worker.wait_ready()
    try:
        assert await worker.refresh("e") is not None
        store.records.extend(_records(MEALS, "m", 50))
        store.reading.clear()
        store.go.clear()
        run = asyncio.create_task(worker.refresh("e"))
        await store.reading.wait()
        store.erased = True
        await worker.forget("e")
        store.go.set()
        assert await run is None
        assert published == ["e"]
    finally:
        await worker.close()


def test_the_pipeline_host_forgets_an_events_vectors_and_texts() -> None:
    host = PipelineHost(make_pipeline("hashing"))
    host.place("e", _inputs(BIKES, "b"))
    host.place("f", _inputs(MEALS, "m"))
    host.forget("e")
    assert list(host.events) == ["f"]
    host.forget("nothing")  # not known: nothing to do


async def test_a_forgotten_key_of_a_debouncer_is_not_acted_on() -> None:
    done: list[str] = []

    async def act(key: str) -> None:
        done.append(key)

    debouncer = Debouncer(act, quiet=0.05, max_wait=0.2)
    debouncer.touch("gone")
    debouncer.touch("kept")
    debouncer.forget("gone")
    debouncer.forget("never touched")
    await asyncio.sleep(0.3)
    assert done == ["kept"]
    debouncer.touch("gone")  # a key may come back: a debouncer knows nothing of erasures
    await asyncio.sleep(0.3)
    assert done == ["kept", "gone"]
    await debouncer.close()


async def test_a_connection_let_in_just_before_its_event_closed_is_closed_as_it_listens() -> None:
    store = FakeStore()
    bus: list[SharedBroker] = []
    here = Hub(SharedBroker(bus), store.head, store.since)
    there = Hub(SharedBroker(bus), store.head, store.since)
    await here.start()
    await there.start()
    channel = event_channel("e1")
    early, early_socket = connection("p1")
    await there.listen(early, channel)
    await here.close_channel(channel, deleted_frame("e1"), CLOSE_EVENT_DELETED, "deleted")
    # Token read before the erasure, listening after it: here and in the other process.
    for hub in (here, there):
        late, late_socket = connection("p2")
        await hub.listen(late, channel)
        await hub.listen(late, "person:p2")
        for _ in range(3):
            await asyncio.sleep(0)
        assert late_socket.sent == [deleted_frame("e1")]
        assert late_socket.closed == CLOSE_EVENT_DELETED and late.closing
    assert early_socket.closed == CLOSE_EVENT_DELETED
    # Another event's channel is not affected.
    other, other_socket = connection("p3")
    await there.listen(other, event_channel("e2"))
    await asyncio.sleep(0)
    assert other_socket.closed is None and not other.closing


async def test_an_order_reaches_its_handler_in_every_other_process_only() -> None:
    store = FakeStore()
    bus: list[SharedBroker] = []
    hubs = [Hub(SharedBroker(bus), store.head, store.since) for _ in range(3)]
    heard: list[tuple[int, str]] = []
    for i, hub in enumerate(hubs):
        hub.on_order("hub:erased", lambda body, i=i: heard.append((i, body)))
        await hub.start()
    await hubs[0].order("hub:erased", "e1")
    assert sorted(heard) == [(1, "e1"), (2, "e1")]
    assert all(CLOSINGS in b.channels and "hub:erased" in b.channels for b in bus)


def test_the_counts_go_out_by_name() -> None:
    assert EventCounts(notes=12, participants=5, rooms=2, answers=3).to_wire() == {
        "notes": 12,
        "participants": 5,
        "rooms": 2,
        "answers": 3,
    }
