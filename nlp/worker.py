"""Keeps each event's themes up to date as notes arrive, off the event loop.

A change marks its event dirty; after a short quiet spell (or a longest wait, so a busy event
still updates) the worker reads the event's notes, runs the pipeline in its own thread,
stores the result and publishes it. Embeddings are cached per note, so each note is embedded
once unless its text changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .runner import Runner
from .themes import NoteInput, Theme, ThemeSet

log = logging.getLogger("tablee.worker")


class NoteRecord(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def room_id(self) -> str: ...


class ThemeStore(Protocol):
    async def notes_for_themes(self, event_id: str) -> Sequence[NoteRecord]: ...

    async def save_themes(self, event_id: str, version: int, payload: dict[str, Any]) -> None: ...

    async def latest_themes(self, event_id: str) -> dict[str, Any] | None: ...


Publish = Callable[[str, dict[str, Any]], Awaitable[None]]
"""Called with (event id, themes payload) after each update."""


@dataclass
class _EventState:
    previous: ThemeSet | None = None
    payload: dict[str, Any] | None = None
    dirty_since: float | None = None
    last_change: float = 0.0
    task: asyncio.Task[None] | None = None
    runs: int = 0


class ThemeWorker:
    def __init__(
        self,
        store: ThemeStore,
        publish: Publish,
        runner: Runner,
        *,
        debounce: float = 1.0,
        max_wait: float = 5.0,
    ) -> None:
        self._store = store
        self._publish = publish
        self._runner = runner
        self._ready_ok = False
        self._debounce = debounce
        self._max_wait = max_wait
        self._events: dict[str, _EventState] = {}
        self._ready = asyncio.Event()
        self._closed = False
        self._warm_task: asyncio.Task[None] | None = None
        self.last_timings: dict[str, float] = {}

    async def start(self) -> None:
        """Load the model in the background: the server accepts connections meanwhile."""
        self._warm_task = asyncio.create_task(self._load())

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
        if self._closed:
            return
        state = self._events.setdefault(event_id, _EventState())
        now = time.monotonic()
        state.last_change = now
        if state.dirty_since is None:
            state.dirty_since = now
        if state.task is None or state.task.done():
            state.task = asyncio.create_task(self._run_when_quiet(event_id, state))

    async def latest(self, event_id: str) -> dict[str, Any] | None:
        state = self._events.get(event_id)
        if state is not None and state.payload is not None:
            return state.payload
        return await self._store.latest_themes(event_id)

    async def _run_when_quiet(self, event_id: str, state: _EventState) -> None:
        await self._ready.wait()
        while state.dirty_since is not None and not self._closed:
            now = time.monotonic()
            quiet_at = state.last_change + self._debounce
            forced_at = state.dirty_since + self._max_wait
            wait = min(quiet_at, forced_at) - now
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            state.dirty_since = None
            try:
                await self.refresh(event_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("theme update failed for event %s", event_id)

    async def refresh(self, event_id: str) -> dict[str, Any] | None:
        """Recompute the event's themes now, store and publish them."""
        if not self._ready_ok:
            return None
        state = self._events.setdefault(event_id, _EventState())
        records = await self._store.notes_for_themes(event_id)
        notes = [NoteInput(r.id, r.text, r.room_id) for r in records]
        if state.previous is None:
            stored = await self._store.latest_themes(event_id)
            if stored is not None:
                state.previous = themes_from_payload(stored)
        started = time.perf_counter()
        themes, timings = await self._runner.run(event_id, notes, state.previous)
        by_id = {n.id: n for n in notes}
        payload = themes.to_payload(by_id)
        payload["seconds"] = round(time.perf_counter() - started, 3)
        state.previous = themes
        state.payload = payload
        state.runs += 1
        self.last_timings = timings
        await self._store.save_themes(event_id, themes.version, payload)
        await self._publish(event_id, payload)
        return payload

    async def close(self) -> None:
        self._closed = True
        tasks = [s.task for s in self._events.values() if s.task is not None]
        if self._warm_task is not None:
            tasks.append(self._warm_task)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._runner.close()


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
        )
        for t in payload.get("themes", ())
    )
    unthemed = tuple(str(u["id"]) for u in payload.get("unthemed", ()))
    return ThemeSet(version=int(payload.get("version", 0)), themes=themes, unthemed_ids=unthemed)
