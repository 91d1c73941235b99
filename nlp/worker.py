"""Keeps each event's themes up to date as notes arrive, off the event loop.

A change marks its event dirty; after a short quiet spell (or a longest wait, so a busy event
still updates) the worker reads the event's notes, runs the pipeline through its runner
(a child process or a thread), stores the result and publishes it. Embeddings are cached
per note where the runner lives, so each note is embedded once unless its text changes.
The runner gets only the notes that changed and answers with the snapshot encoded
(`refresh`): in the server's process nothing the size of the event is pickled, decoded or
encoded while rooms are fanning out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from .debounce import Debouncer
from .incremental import Placement
from .refresh import NoteLedger, NoteReading, NoteRecord
from .runner import Runner
from .steering import Edit, Steering, fold
from .themes import NoteInput, ThemeSet

log = logging.getLogger("tablee.worker")


class EventGone(LookupError):
    """The event was erased: its store takes nothing more of it."""


class ThemeStore(Protocol):
    async def notes(self, event_id: str) -> Sequence[NoteRecord]: ...

    async def changed_notes(
        self, event_id: str, since: datetime
    ) -> tuple[Sequence[NoteRecord], Sequence[str]]: ...

    async def edits(self, event_id: str) -> Sequence[Edit]: ...

    async def save(
        self, event_id: str, version: int, payload: str, notes_read_at: datetime
    ) -> bool:
        """False when another worker stored this version first; EventGone when the event
        no longer exists."""
        ...

    async def version(self, event_id: str) -> int | None: ...

    async def latest_text(self, event_id: str) -> str | None: ...


Publish = Callable[[str, str, str | None], Awaitable[None]]
"""Called after each update with the event id, the themes snapshot as JSON text, and the
diff from the previous version as JSON text (None when there is no previous version)."""


@dataclass
class _EventState:
    text: str | None = None
    decoded: tuple[str, dict[str, Any]] | None = None  # (the text it was decoded from, ...)
    runs: int = 0
    ledger: NoteLedger = field(default_factory=NoteLedger)
    version: int | None = None  # of the latest themes this worker made
    saved_at: float | None = None  # monotonic
    unsaved: tuple[int, str, datetime] | None = None  # (version, text, notes read at)
    # Another worker stored this version number first: what the runner holds is not what
    # facilitators were sent, so the next run starts from the stored themes.
    diverged: bool = False


class ThemeWorker:
    """Refreshes an event's themes: read its notes, run the pipeline, store, publish.

    `refresh` is idempotent: it always works from the stored notes and the latest stored
    themes (whoever made them), so running it twice, or on two workers, does no harm.
    """

    def __init__(
        self,
        store: ThemeStore,
        publish: Publish,
        runner: Runner,
        *,
        debounce: float = 1.0,
        max_wait: float = 5.0,
        every_notes: int = 50,
        store_every: float = 0.0,
    ) -> None:
        self._store = store
        # With one worker per database (SQLite), a snapshot need not be stored on every run:
        # facilitators get it from memory, and writing megabytes holds up the notes being
        # posted behind it. At most one store per `store_every` seconds, and the last on close.
        self._store_every = store_every
        self._stores: dict[str, asyncio.Task[None]] = {}
        self._publish = publish
        self._runner = runner
        self._ready = asyncio.Event()
        self._ready_ok = False
        self._events: dict[str, _EventState] = {}
        self._warm_task: asyncio.Task[None] | None = None
        self._debouncer = Debouncer(
            self.refresh, quiet=debounce, max_wait=max_wait, ready=self._ready
        )
        self.last_timings: dict[str, float] = {}
        # A re-clustering every `every_notes` changes or `max_wait` seconds, whichever
        # comes first: between runs new notes are placed one by one (`place`).
        self._every_notes = every_notes
        self._changes: dict[str, int] = {}
        # Events erased while this worker ran: a late note, job or placement of theirs is
        # dropped instead of bringing their state back. An id each, for the process's life.
        self._erased: set[str] = set()

    async def start(self) -> None:
        """Load the model in the background: the server accepts connections meanwhile."""
        self._warm_task = asyncio.create_task(self._load())

    async def wait_ready(self) -> bool:
        await self._ready.wait()
        return self._ready_ok

    async def _load(self) -> None:
        started = time.perf_counter()
        try:
            await self._runner.start()
            self._ready_ok = True
            log.info("theme pipeline ready in %.1f s", time.perf_counter() - started)
        except Exception:
            log.exception("the theme pipeline failed to load; themes are unavailable")
        finally:
            self._ready.set()

    @property
    def ready(self) -> bool:
        return self._ready_ok

    def notify(self, event_id: str) -> None:
        """A note of this event changed; themes will follow shortly."""
        if event_id in self._erased:
            return
        count = self._changes.get(event_id, 0) + 1
        urgent = count >= self._every_notes
        self._changes[event_id] = 0 if urgent else count
        self._debouncer.touch(event_id, urgent=urgent)

    async def latest_text(self, event_id: str) -> str | None:
        """The event's latest themes payload, as the JSON text that was stored."""
        if event_id in self._erased:
            return None
        state = self._events.get(event_id)
        if state is not None and state.text is not None:
            return state.text
        return await self._store.latest_text(event_id)

    async def latest(self, event_id: str) -> dict[str, Any] | None:
        """The latest themes payload, decoded (for facilitators' edits, which are rare)."""
        text = await self.latest_text(event_id)
        if text is None:
            return None
        state = self._events.get(event_id)
        if state is not None and state.decoded is not None and state.decoded[0] is text:
            return state.decoded[1]
        payload: dict[str, Any] = await asyncio.to_thread(json.loads, text)
        if state is not None and state.text is text:
            state.decoded = (text, payload)
        return payload

    async def refresh(self, event_id: str) -> str | None:
        """Recompute the event's themes now, store and publish them; the payload's text.

        None when there is nothing to publish: the model is not loaded, another worker
        stored this version first, or the event was erased (it is then forgotten here).
        """
        if not self._ready_ok or event_id in self._erased:
            return None
        state = self._events.setdefault(event_id, _EventState())
        ledger = state.ledger
        reading = await self._read(event_id, ledger.since())
        stored = await self._store.version(event_id)
        if state.version is not None and (stored is None or state.version > stored):
            stored = state.version  # made here and not stored yet: the runner holds it
        steering = await self.steering(event_id)
        output = None
        if not state.diverged:
            request = await asyncio.to_thread(ledger.request, event_id, reading, stored, steering)
            output = await self._runner.refresh(request)
        if output is None:
            # The runner holds other notes or themes (it restarted, or another worker
            # stored newer themes): send everything once.
            if not reading.complete:
                reading = await self._read(event_id, None)
            previous = await self._store.latest_text(event_id)
            request = await asyncio.to_thread(
                ledger.request,
                event_id,
                reading,
                stored,
                steering,
                full=True,
                previous_text=previous,
            )
            output = await self._runner.refresh(request)
            if output is None:
                if event_id in self._erased:
                    # Erased during the reads: the runner forgot the themes this run built on.
                    await self._runner.forget(event_id)
                    return None
                raise RuntimeError(f"the theme runner declined a full run of {event_id}")
            state.diverged = False
        if event_id in self._erased:
            await self._runner.forget(event_id)  # erased during the run, which kept its cache
            return None
        ledger.applied(request)
        state.text, state.version = output.text, output.version
        state.runs += 1
        self.last_timings = output.timings
        now = time.monotonic()
        wait = self._store_every - (now - state.saved_at) if state.saved_at is not None else 0.0
        if self._store_every > 0 and wait > 0:
            state.unsaved = (output.version, output.text, reading.read_at)
            self._store_later(event_id, wait)
        else:
            state.unsaved = None
            if not await self._save(event_id, output.version, output.text, reading.read_at):
                if event_id in self._erased:
                    return None
                log.info(
                    "themes v%d of %s were saved by another worker first", output.version, event_id
                )
                state.diverged = True
                return None
            state.saved_at = now
        await self._publish(event_id, output.text, output.diff)
        return output.text

    def _store_later(self, event_id: str, delay: float) -> None:
        """Store the event's latest themes in `delay` seconds, should no run store them first:
        a quiet event's last themes survive a restart."""
        if event_id in self._stores:
            return

        async def later() -> None:
            try:
                await asyncio.sleep(delay)
                await self._flush(event_id)
            finally:
                self._stores.pop(event_id, None)

        self._stores[event_id] = asyncio.create_task(later())

    async def _flush(self, event_id: str) -> bool:
        state = self._events.get(event_id)
        if state is None or state.unsaved is None:
            return False
        version, text, read_at = state.unsaved
        state.unsaved = None
        state.saved_at = time.monotonic()
        return await self._save(event_id, version, text, read_at)

    async def _save(self, event_id: str, version: int, text: str, read_at: datetime) -> bool:
        try:
            return await self._store.save(event_id, version, text, read_at)
        except EventGone:
            # Erased since this worker last heard of it (its process was not told, or the
            # erasure came in the middle of a run): nothing was written, and nothing will be.
            log.info("event %s was erased; its themes are dropped", event_id)
            await self.forget(event_id)
            return False

    async def forget(self, event_id: str) -> None:
        """The event was erased: drop everything held of it, here and in the runner, and
        take nothing more of it."""
        self._erased.add(event_id)
        self._debouncer.forget(event_id)
        self._changes.pop(event_id, None)
        self._events.pop(event_id, None)
        storing = self._stores.pop(event_id, None)
        if storing is not None and storing is not asyncio.current_task():
            storing.cancel()
        if self._ready_ok:
            await self._runner.forget(event_id)

    async def flush(self) -> int:
        """Store the themes made since each event's last store; how many were stored."""
        return sum([await self._flush(event_id) for event_id in list(self._events)])

    async def _read(self, event_id: str, since: datetime | None) -> NoteReading:
        """The event's notes, or only those written since `since`: a large event's rows
        are tens of thousands of objects for the server's process to build and collect."""
        read_at = datetime.now(UTC)
        if since is None:
            return NoteReading(await self._store.notes(event_id), read_at)
        records, deleted = await self._store.changed_notes(event_id, since)
        return NoteReading(records, read_at, complete=False, deleted=deleted)

    async def steering(self, event_id: str) -> Steering:
        """The facilitators' edits of this event, as constraints for the next run."""
        return fold(await self._store.edits(event_id))

    async def place(self, event_id: str, notes: Sequence[NoteInput]) -> list[Placement]:
        """Put new notes in themes now, before the next re-clustering; [] if not ready or
        the event was erased."""
        if not self._ready_ok or not notes or event_id in self._erased:
            return []
        placed = await self._runner.place(event_id, notes)
        if event_id in self._erased:
            await self._runner.forget(event_id)  # erased while placing: the cache came back
            return []
        return placed

    async def absorb(
        self, event_id: str, notes: Sequence[NoteInput], themes: ThemeSet | None
    ) -> int:
        """Notes and themes made elsewhere, for placements here; 0 if not ready or the event
        was erased."""
        if not self._ready_ok or event_id in self._erased:
            return 0
        taken = await self._runner.absorb(event_id, notes, themes)
        if event_id in self._erased:
            await self._runner.forget(event_id)
            return 0
        return taken

    def erased(self, event_id: str) -> bool:
        """Whether this worker heard the event was erased."""
        return event_id in self._erased

    async def split(self, event_id: str, note_ids: Sequence[str]) -> list[list[str]] | None:
        """Two parts of a theme's notes, by their vectors; None if not ready."""
        if not self._ready_ok or event_id in self._erased:
            return None
        return await self._runner.split(event_id, note_ids)

    async def close(self) -> None:
        await self._debouncer.close()
        for task in list(self._stores.values()):
            task.cancel()
        with contextlib.suppress(Exception):
            await self.flush()
        if self._warm_task is not None:
            self._warm_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._warm_task
        await self._runner.close()
