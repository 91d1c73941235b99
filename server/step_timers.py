"""One wake-up per event with a running step: sleep until its next deadline, then act.

What happens at the deadline is decided from the stored agenda read at that moment (see
`agenda.tick`), so a timer armed from an older state only wakes up early and re-arms.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger("tablee.timers")

Fire = Callable[[], Awaitable[None]]
RETRY_SECONDS = 2.0


class StepTimers:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def armed(self, event_id: str) -> bool:
        task = self._tasks.get(event_id)
        return task is not None and not task.done()

    def arm(self, event_id: str, at: float | None, fire: Fire) -> None:
        """Call `fire` at wall-clock time `at` (replacing any earlier wake-up); None disarms."""
        self.cancel(event_id)
        if at is None:
            return
        self._tasks[event_id] = asyncio.create_task(self._wait(event_id, at, fire))

    def cancel(self, event_id: str) -> None:
        task = self._tasks.pop(event_id, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _wait(self, event_id: str, at: float, fire: Fire) -> None:
        try:
            await asyncio.sleep(max(0.0, at - self._clock()))
            if self._tasks.get(event_id) is asyncio.current_task():
                del self._tasks[event_id]
            await fire()
        except asyncio.CancelledError:
            raise
        except Exception:
            # A deadline must not be lost to a passing database error: try again shortly.
            log.exception("step timer failed; retrying")
            if event_id not in self._tasks:
                self.arm(event_id, self._clock() + RETRY_SECONDS, fire)

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
