"""Where the theme pipeline runs: a child process (the default) or a thread.

Embedding and clustering hold the GIL for long stretches; in the server's own process they
would stall the event loop and with it every room's fan-out and heartbeat. A child process
keeps the model and the per-note vector cache; only notes and themes cross over.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from .themes import NoteInput, ThemeSet

log = logging.getLogger("tablee.worker")


class Pipeline(Protocol):
    timings: dict[str, float]

    def run(
        self,
        notes: Sequence[NoteInput],
        vectors: dict[str, np.ndarray],
        previous: ThemeSet | None,
    ) -> ThemeSet: ...


@dataclass
class _EventCache:
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)


class PipelineHost:
    """A pipeline with a vector cache per event; lives wherever the runs happen."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.events: dict[str, _EventCache] = {}

    def run(
        self, event_id: str, notes: Sequence[NoteInput], previous: ThemeSet | None
    ) -> tuple[ThemeSet, dict[str, float]]:
        cache = self.events.setdefault(event_id, _EventCache())
        live = set()
        for note in notes:
            live.add(note.id)
            if cache.texts.get(note.id) != note.text:
                cache.vectors.pop(note.id, None)  # an edited note is embedded again
                cache.texts[note.id] = note.text
        for gone in [k for k in cache.texts if k not in live]:
            cache.texts.pop(gone, None)
            cache.vectors.pop(gone, None)
        themes = self.pipeline.run(notes, cache.vectors, previous)
        return themes, dict(self.pipeline.timings)


class Runner(Protocol):
    async def start(self) -> None: ...

    async def run(
        self, event_id: str, notes: Sequence[NoteInput], previous: ThemeSet | None
    ) -> tuple[ThemeSet, dict[str, float]]: ...

    async def close(self) -> None: ...


class ThreadRunner:
    """Runs in one thread of this process: for tests and model-free pipelines."""

    def __init__(self, make: Callable[[], Pipeline]) -> None:
        self._make = make
        self._host: PipelineHost | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tablee-themes")

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        pipeline = await loop.run_in_executor(self._executor, self._make)
        self._host = PipelineHost(pipeline)

    async def run(
        self, event_id: str, notes: Sequence[NoteInput], previous: ThemeSet | None
    ) -> tuple[ThemeSet, dict[str, float]]:
        assert self._host is not None, "start() first"
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._host.run, event_id, notes, previous)

    async def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


# The child process's own pipeline, built once by the pool's initializer.
_child_host: PipelineHost | None = None


def _child_init(model: str) -> None:
    global _child_host
    from .factory import make_pipeline

    _child_host = PipelineHost(make_pipeline(model))


def _child_ready() -> bool:
    return _child_host is not None


def _child_run(
    event_id: str, notes: Sequence[NoteInput], previous: ThemeSet | None
) -> tuple[ThemeSet, dict[str, float]]:
    assert _child_host is not None
    return _child_host.run(event_id, notes, previous)


class ProcessRunner:
    """Runs in a child process holding the model; a child that dies is replaced."""

    def __init__(self, model: str) -> None:
        self._model = model
        self._pool: Executor | None = None

    def _new_pool(self) -> Executor:
        # spawn, not fork: the server has threads and an event loop that a fork would copy.
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_child_init,
            initargs=(self._model,),
        )

    async def start(self) -> None:
        self._pool = self._new_pool()
        started = time.perf_counter()
        await asyncio.get_running_loop().run_in_executor(self._pool, _child_ready)
        log.info("theme process ready in %.1f s", time.perf_counter() - started)

    async def run(
        self, event_id: str, notes: Sequence[NoteInput], previous: ThemeSet | None
    ) -> tuple[ThemeSet, dict[str, float]]:
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            assert self._pool is not None, "start() first"
            try:
                return await loop.run_in_executor(
                    self._pool, _child_run, event_id, list(notes), previous
                )
            except BrokenProcessPool:
                if attempt == 2:
                    raise
                log.warning("the theme process died; starting a new one")
                self._pool.shutdown(wait=False, cancel_futures=True)
                await self.start()
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
