"""Coalesces bursts of changes per key into one action. No I/O of its own.

An action runs after a quiet spell following the last change, or after a longest wait since
the first unhandled change, so a busy event still updates regularly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger("tablee.debounce")


@dataclass
class _Pending:
    dirty_since: float | None = None
    last_change: float = 0.0
    task: asyncio.Task[None] | None = None


class Debouncer:
    def __init__(
        self,
        action: Callable[[str], Awaitable[object]],
        *,
        quiet: float,
        max_wait: float,
        ready: asyncio.Event | None = None,
    ) -> None:
        self._action = action
        self._quiet = quiet
        self._max_wait = max_wait
        self._ready = ready
        self._keys: dict[str, _Pending] = {}
        self._closed = False

    def touch(self, key: str, *, urgent: bool = False) -> None:
        """Mark `key` changed; `urgent` makes the action due now rather than after a quiet spell."""
        if self._closed:
            return
        pending = self._keys.setdefault(key, _Pending())
        now = time.monotonic()
        pending.last_change = now
        if pending.dirty_since is None:
            pending.dirty_since = now
        if urgent:
            pending.dirty_since = now - self._max_wait
        if pending.task is None or pending.task.done():
            pending.task = asyncio.create_task(self._run(key, pending))

    async def _run(self, key: str, pending: _Pending) -> None:
        if self._ready is not None:
            await self._ready.wait()
        while pending.dirty_since is not None and not self._closed:
            due = min(pending.last_change + self._quiet, pending.dirty_since + self._max_wait)
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            pending.dirty_since = None
            try:
                await self._action(key)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("debounced action failed for %s", key)

    def forget(self, key: str) -> None:
        """Drop `key`'s pending action: what it was about no longer exists. An action under
        way finishes (cut short, it could not clean up after itself); its task then finds
        nothing due and ends."""
        pending = self._keys.pop(key, None)
        if pending is not None:
            pending.dirty_since = None

    async def close(self) -> None:
        self._closed = True
        tasks = [p.task for p in self._keys.values() if p.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
