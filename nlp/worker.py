"""Keeps each event's themes up to date as notes arrive, off the event loop.

A change marks its event dirty; after a short quiet spell (or a longest wait, so a busy event
still updates) the worker reads the event's notes, runs the pipeline through its runner
(a child process or a thread), stores the result and publishes it. Embeddings are cached
per note where the runner lives, so each note is embedded once unless its text changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from .debounce import Debouncer
from .identity import LineageEvent
from .incremental import Placement
from .runner import Runner
from .steering import Edit, Steering, fold
from .themes import NoteInput, Theme, ThemeSet

log = logging.getLogger("tablee.worker")


class NoteRecord(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def room_id(self) -> str: ...
    @property
    def created_at(self) -> datetime | None: ...


class ThemeStore(Protocol):
    async def notes_for_themes(self, event_id: str) -> Sequence[NoteRecord]: ...

    async def theme_edits(self, event_id: str) -> Sequence[Edit]: ...

    async def save_themes(
        self, event_id: str, version: int, payload: dict[str, Any], notes_read_at: datetime
    ) -> bool: ...

    async def latest_themes(self, event_id: str) -> dict[str, Any] | None: ...


Publish = Callable[[str, dict[str, Any]], Awaitable[None]]
"""Called with (event id, themes payload) after each update."""


@dataclass
class _EventState:
    payload: dict[str, Any] | None = None
    runs: int = 0


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
    ) -> None:
        self._store = store
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
        count = self._changes.get(event_id, 0) + 1
        urgent = count >= self._every_notes
        self._changes[event_id] = 0 if urgent else count
        self._debouncer.touch(event_id, urgent=urgent)

    async def latest(self, event_id: str) -> dict[str, Any] | None:
        state = self._events.get(event_id)
        if state is not None and state.payload is not None:
            return state.payload
        return await self._store.latest_themes(event_id)

    async def refresh(self, event_id: str) -> dict[str, Any] | None:
        """Recompute the event's themes now, store and publish them."""
        if not self._ready_ok:
            return None
        state = self._events.setdefault(event_id, _EventState())
        read_at = datetime.now(UTC)
        records = await self._store.notes_for_themes(event_id)
        stored = await self._store.latest_themes(event_id)
        # Tens of thousands of notes: built off the event loop, which is fanning out notes.
        notes, previous = await asyncio.to_thread(_inputs, records, stored)
        steering = await self.steering(event_id)
        started = time.perf_counter()
        themes, timings = await self._runner.run(event_id, notes, previous, steering)
        payload = await asyncio.to_thread(themes.to_payload, {n.id: n for n in notes})
        payload["seconds"] = round(time.perf_counter() - started, 3)
        state.payload = payload
        state.runs += 1
        self.last_timings = timings
        if not await self._store.save_themes(event_id, themes.version, payload, read_at):
            log.info(
                "themes v%d of %s were saved by another worker first", themes.version, event_id
            )
            return None
        await self._publish(event_id, payload)
        return payload

    async def steering(self, event_id: str) -> Steering:
        """The facilitators' edits of this event, as constraints for the next run."""
        return fold(await self._store.theme_edits(event_id))

    async def place(self, event_id: str, notes: Sequence[NoteInput]) -> list[Placement]:
        """Put new notes in themes now, before the next re-clustering; [] if not ready."""
        if not self._ready_ok or not notes:
            return []
        return await self._runner.place(event_id, notes)

    async def absorb(
        self, event_id: str, notes: Sequence[NoteInput], themes: ThemeSet | None
    ) -> int:
        """Notes and themes made elsewhere, for placements here; 0 if not ready."""
        if not self._ready_ok:
            return 0
        return await self._runner.absorb(event_id, notes, themes)

    async def split(self, event_id: str, note_ids: Sequence[str]) -> list[list[str]] | None:
        """Two parts of a theme's notes, by their vectors; None if not ready."""
        if not self._ready_ok:
            return None
        return await self._runner.split(event_id, note_ids)

    async def close(self) -> None:
        await self._debouncer.close()
        if self._warm_task is not None:
            self._warm_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._warm_task
        await self._runner.close()


def _inputs(
    records: Sequence[NoteRecord], stored: dict[str, Any] | None
) -> tuple[list[NoteInput], ThemeSet | None]:
    notes = [
        NoteInput(r.id, r.text, r.room_id, r.created_at.timestamp() if r.created_at else 0.0)
        for r in records
    ]
    return notes, themes_from_payload(stored) if stored is not None else None


def themes_from_payload(payload: dict[str, Any]) -> ThemeSet:
    """The stored snapshot as the `previous` of the next run, so ids survive a restart."""
    themes = tuple(
        Theme(
            id=str(t["id"]),
            label=str(t["label"]),
            keywords=tuple(str(k) for k in t.get("keywords", ())),
            note_ids=tuple(str(n) for n in t.get("note_ids", ())),
            representative_ids=tuple(str(r["id"]) for r in t.get("representatives", ())),
            rooms=tuple((str(r["id"]), int(r["count"])) for r in t.get("rooms", ())),
            renamed=bool(t.get("renamed", False)),
            hidden=bool(t.get("hidden", False)),
            split_from=t.get("split_from"),
        )
        for t in payload.get("themes", ())
    )
    unthemed = tuple(str(u["id"]) for u in payload.get("unthemed", ()))
    coords = {str(k): (float(v[0]), float(v[1])) for k, v in payload.get("map", {}).items()}
    lineage = tuple(
        LineageEvent(int(e["version"]), str(e["kind"]), str(e["theme"]), str(e["other"]))
        for e in payload.get("lineage", ())
    )
    return ThemeSet(
        version=int(payload.get("version", 0)),
        themes=themes,
        unthemed_ids=unthemed,
        coords=coords,
        lineage=lineage,
    )
