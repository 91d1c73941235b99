"""The server the browser tests talk to."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="module")
def event_url(request: pytest.FixtureRequest) -> str:
    """A server at TABLEE_E2E_URL, else `live_server_fast` (the hashing embedder)."""
    url = os.environ.get("TABLEE_E2E_URL")
    if url:
        return url.rstrip("/")
    return str(request.getfixturevalue("live_server_fast").url).rstrip("/")
