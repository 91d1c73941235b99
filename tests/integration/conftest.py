"""The store on both backends, for the tests that call it directly; two server processes
sharing PostgreSQL and Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from server.migrate import upgrade_async
from server.store import Store
from tests.conftest import LiveServer


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated-to-be database: a fresh SQLite file, or the test PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    await upgrade_async(store_url)
    s = Store(store_url)
    yield s
    await s.close()


@pytest.fixture
def two_processes(start_server: Any, postgres_url: str) -> tuple[LiveServer, LiveServer]:
    """Two `tablee serve` processes sharing PostgreSQL and Redis, making no themes."""
    env = {
        "TABLEE_DATABASE_URL": postgres_url,
        "TABLEE_BROKER_URL": "redis://127.0.0.1:6379/0",
        "TABLEE_SECRET_KEY": "test-key-" + uuid.uuid4().hex,
        "TABLEE_WORKER": "off",
    }
    return start_server(name="one", **env), start_server(name="two", **env)
