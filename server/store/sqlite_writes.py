"""SQLite's writes: posts in place on the event loop, everything else on one writer thread.

SQLite takes one writer at a time, so this process queues its writers behind one asyncio
lock instead of retrying "database is locked".

A post is about 50 µs of SQLite's work. Handed to a thread and back it cost 226 µs of CPU,
against 86 µs run in place (a thread wake-up each way costs more than the write itself on
the 2-core virtual machines we measured). So a post runs in place, on a connection of its
own that can never hold the loop for long:

- it never waits for the database lock: if another process holds it, the post goes to the
  writer thread, which waits there as any writer does;
- it never checkpoints the write-ahead log (copying pages back into the database, then an
  fsync): the writer thread does that every `CHECKPOINT_EVERY` posts, in the background,
  while posts go on (a passive checkpoint takes no writer lock).

Larger writes, such as a theme snapshot of megabytes, stay on the writer thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

log = logging.getLogger("tablee.store")

T = TypeVar("T")

# About ten pages go to the log per post: a checkpoint every 100 posts keeps it near
# SQLite's own default of 1,000 pages.
CHECKPOINT_EVERY = 100
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6


def _busy(exc: OperationalError) -> bool:
    code = getattr(exc.orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)


class SqliteWrites:
    """The process's SQLite writers: one connection on the loop, one on a thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine  # blocking; readers off the loop may use it too
        self.lock = asyncio.Lock()
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="tablee-sqlite-writer")
        # Each connection is held from its first write: a pool checkout and return per post
        # cost a fifth of the post.
        self._thread_conn: Connection | None = None
        self._loop_conn: Connection | None = None
        self._since_checkpoint = 0
        self._checkpointing: asyncio.Future[None] | None = None

    async def on_thread(self, write: Callable[[Connection], T]) -> T:
        """One transaction run by a blocking function on the writer thread."""
        async with self.lock:
            return await self._to_thread(write)

    async def in_place(self, write: Callable[[Connection], T]) -> T:
        """One short transaction run here, on the event loop; on the writer thread only
        while another process holds the database lock."""
        async with self.lock:
            try:
                result = self._run_here(write)
            except OperationalError as exc:
                if not _busy(exc):
                    raise
                result = await self._to_thread(write)
        self._since_checkpoint += 1
        if self._since_checkpoint >= CHECKPOINT_EVERY and self._checkpointing is None:
            self._since_checkpoint = 0
            self._checkpointing = asyncio.get_running_loop().run_in_executor(
                self._thread, self._checkpoint
            )
            self._checkpointing.add_done_callback(self._checkpointed)
        return result

    async def close(self) -> None:
        if self._checkpointing is not None:
            await self._checkpointing
        if self._loop_conn is not None:
            self._loop_conn.close()
        if self._thread_conn is not None:
            self._thread.submit(self._thread_conn.close)
        self._thread.shutdown(wait=True)
        self.engine.dispose()

    def _run_here(self, write: Callable[[Connection], T]) -> T:
        c = self._loop_conn
        if c is None or c.closed or c.invalidated:
            c = self._loop_conn = self.engine.connect()
            driver = c.connection.driver_connection
            assert driver is not None
            driver.execute("PRAGMA busy_timeout=0")
            driver.execute("PRAGMA wal_autocheckpoint=0")
        with c.begin():
            return write(c)

    async def _to_thread(self, write: Callable[[Connection], T]) -> T:
        def run() -> T:
            c = self._connection()
            with c.begin():
                return write(c)

        return await asyncio.get_running_loop().run_in_executor(self._thread, run)

    def _connection(self) -> Connection:
        c = self._thread_conn
        if c is None or c.closed or c.invalidated:
            c = self._thread_conn = self.engine.connect()
        return c

    def _checkpoint(self) -> None:
        driver = self._connection().connection.driver_connection
        assert driver is not None
        driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def _checkpointed(self, done: asyncio.Future[None]) -> None:
        self._checkpointing = None
        if not done.cancelled() and done.exception() is not None:
            log.warning("write-ahead log checkpoint failed: %s", done.exception())
