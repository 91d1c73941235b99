"""Engine creation: one place that knows the differences between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine.url import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

# A failed statement's error carries its parameters, and errors are logged: a note's text,
# a pseudonym or a theme snapshot would end up in the server's logs, which outlive an
# event's erasure. The statement itself and the database's own message are kept.
HIDE_PARAMETERS = True


def make_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(
            url, connect_args={"timeout": 30}, hide_parameters=HIDE_PARAMETERS
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # No ping before each checkout: it is a round trip on every request, a tenth of a post's
    # cost. A connection dropped by a database restart fails once, SQLAlchemy then renews the
    # whole pool, and a post retries by itself (clients resend anything else).
    return create_async_engine(
        url,
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=False,
        hide_parameters=HIDE_PARAMETERS,
    )


def make_sqlite_writer(url: str) -> Engine | None:
    """A blocking engine on the same SQLite file, for a thread that owns the hot writes.

    aiosqlite sends every call (cursor, execute, fetch, commit) to its thread and back: a post
    of three statements costs about thirteen thread switches. A whole transaction run on one
    writer thread costs one. PostgreSQL's driver is asynchronous and needs none of this.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    engine = create_engine(
        parsed.set(drivername="sqlite+pysqlite"),
        connect_args={"timeout": 30, "check_same_thread": False},
        hide_parameters=HIDE_PARAMETERS,
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets readers (snapshots, themes) run while a note is being written.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()
