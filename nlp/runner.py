"""Where the theme pipeline runs: a child process (the default) or a thread.

Embedding and clustering hold the GIL for long stretches; in the server's own process they
would stall the event loop and with it every room's fan-out and heartbeat. A child process
keeps the model and the per-note vector cache; only notes and themes cross over.

Two kinds of call: `run` re-clusters an event (seconds on a large one) and `place` embeds
one new note and puts it in a theme (tens of milliseconds). A placement must not wait for
a re-clustering, so runs happen on a thread of their own wherever the host lives, and the
child answers placements while a run is under way.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np

from . import theme_diff
from .incremental import Centres, Placement, place, split_groups
from .lexical import LEXICAL_WEIGHT
from .refresh import EventNotes, RunOutput, RunRequest, encode_payload, themes_from_payload
from .steering import Steering
from .themes import NoteInput, ThemeSet

log = logging.getLogger("tablee.worker")

RunResult = tuple[ThemeSet, dict[str, float]]
T = TypeVar("T")


class Pipeline(Protocol):
    timings: dict[str, float]
    attach_threshold: float | None

    def run(
        self,
        notes: Sequence[NoteInput],
        vectors: dict[str, np.ndarray],
        previous: ThemeSet | None,
        steering: Steering | None = None,
    ) -> ThemeSet: ...

    def embed_missing(self, notes: Sequence[NoteInput], vectors: dict[str, np.ndarray]) -> None: ...


@dataclass
class _EventCache:
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    # Placed since the last run began; merged into `vectors` by the next run.
    fresh: dict[str, tuple[str, np.ndarray]] = field(default_factory=dict)
    centres: Centres | None = None
    last: ThemeSet | None = None
    payload: dict[str, Any] | None = None  # the snapshot of some version, to diff the next from
    lock: threading.Lock = field(default_factory=threading.Lock)
    notes: EventNotes = field(default_factory=EventNotes)


class PipelineHost:
    """A pipeline with a vector cache per event; lives wherever the runs happen.

    `run` and `place` may be called from two threads at once; they share only `fresh`,
    `centres` and `last`, under the event's lock, never the dict a run is reading.
    """

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.events: dict[str, _EventCache] = {}
        self._embed_lock = threading.Lock()

    def _cache(self, event_id: str) -> _EventCache:
        return self.events.setdefault(event_id, _EventCache())

    def run(
        self,
        event_id: str,
        notes: Sequence[NoteInput],
        previous: ThemeSet | None,
        steering: Steering | None = None,
    ) -> RunResult:
        cache = self._cache(event_id)
        with cache.lock:
            fresh, cache.fresh = cache.fresh, {}
        for note_id, (text, vector) in fresh.items():
            cache.vectors[note_id] = vector
            cache.texts[note_id] = text
        live = set()
        for note in notes:
            live.add(note.id)
            if cache.texts.get(note.id) != note.text:
                cache.vectors.pop(note.id, None)  # an edited note is embedded again
                cache.texts[note.id] = note.text
        for gone in [k for k in cache.texts if k not in live]:
            cache.texts.pop(gone, None)
            cache.vectors.pop(gone, None)
        with self._embed_lock:
            self.pipeline.embed_missing(notes, cache.vectors)
        themes = self.pipeline.run(notes, cache.vectors, previous, steering)
        centres = Centres.of(themes, cache.vectors)
        with cache.lock:
            # Themes another process stored meanwhile (`absorb`) are newer: keep theirs.
            if cache.last is None or themes.version >= cache.last.version:
                cache.centres = centres
                cache.last = themes
        return themes, dict(self.pipeline.timings)

    def refresh(self, request: RunRequest) -> RunOutput | None:
        """Re-cluster an event from the changes in `request`; None when they do not apply.

        The host declines a request made against notes or themes it does not hold (after
        a restart, or when another worker stored newer themes): the server then sends
        everything.
        """
        cache = self._cache(request.event_id)
        if not cache.notes.accepts(request):
            return None
        previous: ThemeSet | None = None
        before: dict[str, Any] | None = None
        if request.previous_text is not None:
            before = json.loads(request.previous_text)
            previous = themes_from_payload(before)
        elif request.previous_version is not None:
            with cache.lock:
                previous, before = cache.last, cache.payload
            if previous is None or previous.version != request.previous_version:
                return None
        started = time.perf_counter()
        notes = cache.notes.apply(request)
        themes, timings = self.run(request.event_id, notes, previous, request.steering)
        payload = themes.to_payload(cache.notes.notes)
        payload["seconds"] = round(time.perf_counter() - started, 3)
        change = None
        if before is not None and previous is not None and before["version"] == previous.version:
            change = encode_payload(theme_diff.diff(before, payload))
        with cache.lock:
            if cache.last is themes:
                cache.payload = payload
        return RunOutput(themes.version, encode_payload(payload), len(notes), timings, change)

    def place(self, event_id: str, notes: Sequence[NoteInput]) -> list[Placement]:
        """Embed `notes` in one batch (a third of the cost of one call each) and place them."""
        cache = self._cache(event_id)
        holder: dict[str, np.ndarray] = {}
        with self._embed_lock:
            self.pipeline.embed_missing(notes, holder)
        with cache.lock:
            # Notes placed since the last run count too: a twin posted a second ago is
            # the likeliest duplicate of all.
            rows = {k: v for k, (_, v) in cache.fresh.items()}
            for note in notes:
                cache.fresh[note.id] = (note.text, holder[note.id])
            centres, last = cache.centres, cache.last
        rows.update((k, v) for k, v in list(cache.vectors.items()) if k not in rows)
        batch = [n for n in dict.fromkeys(n.id for n in notes) if n in holder]
        for note_id in batch:
            rows.pop(note_id, None)
        # One matrix for the whole batch: each note is compared with the wall and with the
        # notes of its batch posted before it, a prefix of the same rows.
        ids = [*rows, *batch]
        vectors = [*rows.values(), *(holder[n] for n in batch)]
        matrix = np.stack(vectors) if vectors else np.zeros((0, 0))
        threshold = self.pipeline.attach_threshold
        placements = []
        for note in notes:
            end = len(rows) + batch.index(note.id)
            placements.append(
                place(
                    note.id,
                    holder[note.id],
                    centres or Centres((), np.zeros((0, 0))),
                    ids[:end],
                    matrix[:end],
                    last.coords if last is not None else {},
                    attach_threshold=1.1 if threshold is None else threshold,
                )
            )
        return placements

    def absorb(self, event_id: str, notes: Sequence[NoteInput], themes: ThemeSet | None) -> int:
        """Take in notes and themes another process made, so that placements here see them.

        A `tablee worker` places notes of events whose runs other workers may have done:
        `notes` are those it has not seen (posted or edited elsewhere), `themes` the latest
        stored ones. Returns how many notes were embedded.
        """
        cache = self._cache(event_id)
        with cache.lock:
            known = {k: t for k, (t, _) in cache.fresh.items()}
        missing = [n for n in notes if known.get(n.id, cache.texts.get(n.id)) != n.text]
        holder: dict[str, np.ndarray] = {}
        if missing:
            with self._embed_lock:
                self.pipeline.embed_missing(missing, holder)
        with cache.lock:
            for note in missing:
                cache.fresh[note.id] = (note.text, holder[note.id])
            if themes is None or (cache.last is not None and themes.version <= cache.last.version):
                return len(missing)
            rows = {k: v for k, (_, v) in cache.fresh.items()}
        rows.update((k, v) for k, v in list(cache.vectors.items()) if k not in rows)
        centres = Centres.of(themes, rows)
        with cache.lock:
            if cache.last is None or themes.version > cache.last.version:
                cache.centres = centres
                cache.last = themes
        return len(missing)

    def forget(self, event_id: str) -> None:
        """Drop the event's vectors, texts and themes: the event was erased."""
        self.events.pop(event_id, None)

    def split(self, event_id: str, note_ids: Sequence[str]) -> list[list[str]]:
        cache = self._cache(event_id)
        known = [n for n in note_ids if n in cache.vectors]
        if len(known) < 2:
            return [list(note_ids)]
        labels = split_groups(np.stack([cache.vectors[n] for n in known]))
        parts = [[n for n, k in zip(known, labels.tolist(), strict=True) if k == g] for g in (0, 1)]
        return [p for p in sorted(parts, key=len, reverse=True) if p]


class Runner(Protocol):
    async def start(self) -> None: ...

    async def refresh(self, request: RunRequest) -> RunOutput | None: ...

    async def place(self, event_id: str, notes: Sequence[NoteInput]) -> list[Placement]: ...

    async def absorb(
        self, event_id: str, notes: Sequence[NoteInput], themes: ThemeSet | None
    ) -> int: ...

    async def split(self, event_id: str, note_ids: Sequence[str]) -> list[list[str]]: ...

    async def forget(self, event_id: str) -> None: ...

    async def close(self) -> None: ...


class ThreadRunner:
    """Runs in threads of this process: for tests, model-free pipelines and `tablee worker`."""

    def __init__(self, make: Callable[[], Pipeline]) -> None:
        self._make = make
        self._host: PipelineHost | None = None
        self._runs = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tablee-themes")
        self._quick = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tablee-place")

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        pipeline = await loop.run_in_executor(self._runs, self._make)
        self._host = PipelineHost(pipeline)

    async def refresh(self, request: RunRequest) -> RunOutput | None:
        assert self._host is not None, "start() first"
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._runs, self._host.refresh, request)

    async def place(self, event_id: str, notes: Sequence[NoteInput]) -> list[Placement]:
        assert self._host is not None, "start() first"
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._quick, self._host.place, event_id, list(notes))

    async def absorb(
        self, event_id: str, notes: Sequence[NoteInput], themes: ThemeSet | None
    ) -> int:
        assert self._host is not None, "start() first"
        loop = asyncio.get_running_loop()
        # On the placements' thread: it must not wait behind a run, and it feeds placements.
        return await loop.run_in_executor(
            self._quick, self._host.absorb, event_id, list(notes), themes
        )

    async def split(self, event_id: str, note_ids: Sequence[str]) -> list[list[str]]:
        assert self._host is not None, "start() first"
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._quick, self._host.split, event_id, list(note_ids))

    async def forget(self, event_id: str) -> None:
        if self._host is not None:
            # A dict's pop: no thread needed, and a run under way keeps the cache it holds.
            self._host.forget(event_id)

    async def close(self) -> None:
        self._runs.shutdown(wait=False, cancel_futures=True)
        self._quick.shutdown(wait=False, cancel_futures=True)


# The child process's own pipeline, built once by the pool's initializer. Runs go to a
# thread of the child, so the child's one call slot stays free for placements.
_child_host: PipelineHost | None = None
CHILD_NICENESS = 10
_child_runs: ThreadPoolExecutor | None = None
_child_tickets: dict[int, Future[RunOutput | None]] = {}
_child_counter = itertools.count(1)


def _child_init(model: str, word_weight: float) -> None:
    global _child_host, _child_runs
    from .factory import make_pipeline

    # A re-clustering may use a whole core for seconds: on a small machine the scheduler
    # should prefer the server's event loop, which is fanning out notes meanwhile.
    with contextlib.suppress(OSError):
        os.nice(CHILD_NICENESS)
    threading.Thread(
        target=_exit_with_parent, args=(os.getppid(),), name="tablee-parent-watch", daemon=True
    ).start()

    _child_host = PipelineHost(make_pipeline(model, word_weight))
    _child_runs = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tablee-themes")


def _exit_with_parent(parent: int) -> None:
    """A server killed outright (kill -9, out of memory) must not leave its model process
    behind: hundreds of megabytes, and a core while a run finishes."""
    while os.getppid() == parent:
        time.sleep(_PARENT_POLL_SECONDS)
    os._exit(0)


_PARENT_POLL_SECONDS = 1.0


def _child_ready() -> bool:
    return _child_host is not None


def _child_start(request: RunRequest) -> int:
    assert _child_host is not None and _child_runs is not None
    ticket = next(_child_counter)
    _child_tickets[ticket] = _child_runs.submit(_child_host.refresh, request)
    return ticket


def _child_wait(ticket: int, timeout: float) -> tuple[bool, RunOutput | None]:
    """(True, the run's output) once done; (False, None) while it is still going."""
    future = _child_tickets[ticket]
    try:
        result = future.result(timeout=timeout)
    except TimeoutError:
        return False, None
    except BaseException:
        _child_tickets.pop(ticket, None)
        raise
    _child_tickets.pop(ticket, None)
    return True, result


def _child_place(event_id: str, notes: list[NoteInput]) -> list[Placement]:
    assert _child_host is not None
    return _child_host.place(event_id, notes)


def _child_absorb(event_id: str, notes: list[NoteInput], themes: ThemeSet | None) -> int:
    assert _child_host is not None
    return _child_host.absorb(event_id, notes, themes)


def _child_split(event_id: str, note_ids: list[str]) -> list[list[str]]:
    assert _child_host is not None
    return _child_host.split(event_id, note_ids)


def _child_forget(event_id: str) -> None:
    assert _child_host is not None
    _child_host.forget(event_id)


# A placement waits at most this long behind a poll for a run's result.
_POLL_SECONDS = 0.1


class ProcessRunner:
    """Runs in a child process holding the model; a child that dies is replaced."""

    def __init__(self, model: str, word_weight: float = LEXICAL_WEIGHT) -> None:
        self._model = model
        self._word_weight = word_weight
        self._pool: Executor | None = None

    def _new_pool(self) -> Executor:
        # spawn, not fork: the server has threads and an event loop that a fork would copy.
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_child_init,
            initargs=(self._model, self._word_weight),
        )

    async def start(self) -> None:
        self._pool = self._new_pool()
        started = time.perf_counter()
        await asyncio.get_running_loop().run_in_executor(self._pool, _child_ready)
        log.info("theme process ready in %.1f s", time.perf_counter() - started)

    async def _call(self, fn: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            assert self._pool is not None, "start() first"
            try:
                return await loop.run_in_executor(self._pool, fn, *args)
            except BrokenProcessPool:
                if attempt == 2:
                    raise
                log.warning("the theme process died; starting a new one")
                self._pool.shutdown(wait=False, cancel_futures=True)
                await self.start()
        raise AssertionError("unreachable")

    async def refresh(self, request: RunRequest) -> RunOutput | None:
        ticket = await self._call(_child_start, request)
        while True:
            # A fresh process after a crash knows no ticket: the KeyError ends this run.
            done, output = await self._call(_child_wait, ticket, _POLL_SECONDS)
            if done:
                return output

    async def place(self, event_id: str, notes: Sequence[NoteInput]) -> list[Placement]:
        return await self._call(_child_place, event_id, list(notes))

    async def absorb(
        self, event_id: str, notes: Sequence[NoteInput], themes: ThemeSet | None
    ) -> int:
        return await self._call(_child_absorb, event_id, list(notes), themes)

    async def split(self, event_id: str, note_ids: Sequence[str]) -> list[list[str]]:
        return await self._call(_child_split, event_id, list(note_ids))

    async def forget(self, event_id: str) -> None:
        if self._pool is not None:
            await self._call(_child_forget, event_id)

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
