"""Shared fixtures: real servers on free ports, real PostgreSQL, the shared evaluation data.

In CI (CI=true) a missing real dependency fails the test; elsewhere it skips with a reason.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_URL = os.environ.get(
    "TABLEE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def require(condition: bool, reason: str) -> None:
    """Skip when a real dependency is missing, except in CI where that is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"missing in CI: {reason}")
    pytest.skip(reason)


def shared_data() -> Path:
    path = Path(os.environ.get("TABLEE_SHARED_DATA", ROOT.parent / "shared" / "data"))
    require(path.is_dir(), f"shared evaluation data not found at {path}")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def end_process(proc: subprocess.Popen[bytes]) -> None:
    """Ask a process to stop, and kill it if it has not within 10 s."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class LiveServer:
    """`tablee serve` in a subprocess on a free loopback port."""

    def __init__(self, tmp: Path, env: dict[str, str], name: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        self.log_path = tmp / f"{name}.log"
        full_env = {
            **os.environ,
            "TABLEE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / (name + '.db')}",
            "TABLEE_BROKER_URL": "memory://",
            "TABLEE_PORT": str(self.port),
            "TABLEE_HOST": "127.0.0.1",
            "TABLEE_THEMES_DEBOUNCE_SECONDS": "0.5",
            "TABLEE_THEMES_MAX_WAIT_SECONDS": "2",
            "TABLEE_HEARTBEAT_SECONDS": "2",
            "TABLEE_LOG_LEVEL": "info",
            **env,
        }
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve"],
            cwd=ROOT,
            env=full_env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float, themes: bool) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.log()}")
            try:
                r = httpx.get(self.url + "/readyz", timeout=2)
                if r.status_code == 200 and (
                    not themes
                    or r.json()["checks"]["themes"] in ("ready", "off", "external workers")
                ):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server not ready after {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        end_process(self.proc)
        self._log.close()


def _start(tmp: Path, env: dict[str, str], name: str, themes: bool) -> LiveServer:
    server = LiveServer(tmp, env, name)
    try:
        server.wait_ready(180, themes)
    except Exception:
        server.stop()
        raise
    return server


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real server with the real packaged model, ready to make themes."""
    server = _start(tmp_path_factory.mktemp("live"), {}, "live", themes=True)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def live_server_fast(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real server whose theme worker uses the model-free hashing embedder."""
    server = _start(
        tmp_path_factory.mktemp("fast"),
        {"TABLEE_EMBEDDING_MODEL": "hashing"},
        "fast",
        themes=True,
    )
    yield server
    server.stop()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[object]:
    """Start servers with custom settings inside one test; all are stopped after it."""
    started: list[LiveServer] = []

    def start(name: str = "custom", themes: bool = False, **env: str) -> LiveServer:
        server = _start(tmp_path, env, name, themes)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def _in_thread(coro_fn: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion on a private loop: usable from sync fixtures anywhere."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro_fn()).result()


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _postgres_available(url: str) -> bool:
    import asyncpg

    try:
        conn = await asyncio.wait_for(asyncpg.connect(_dsn(url)), 5)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_dsn(POSTGRES_URL))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def scratch_postgres(prefix: str = "tablee_t") -> Iterator[str]:
    """A fresh, empty PostgreSQL database next to POSTGRES_URL's, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    _in_thread(lambda: _admin(f'CREATE DATABASE "{name}"'))
    base, _, _ = POSTGRES_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        _in_thread(lambda: _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    available = _in_thread(lambda: _postgres_available(POSTGRES_URL))
    require(available, f"PostgreSQL not reachable at {POSTGRES_URL}")
    with scratch_postgres() as url:
        yield url


class WorkerProcess:
    """`tablee worker` in a subprocess; `nice` lowers its priority, as the server's own model
    process runs."""

    def __init__(self, tmp: Path, name: str, env: dict[str, str], nice: int = 0) -> None:
        self.log_path = tmp / f"{name}.log"
        self._log = self.log_path.open("wb")
        niced = ["nice", "-n", str(nice)] if nice else []
        self.proc = subprocess.Popen(
            [*niced, sys.executable, "-m", "server.cli", "worker"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited:\n{self.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{text!r} not in worker log:\n{self.log()[-3000:]}")
            time.sleep(0.05)

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        end_process(self.proc)
        self._log.close()


class PrivateRedis:
    """A Redis server of one test's own, which the test may stop and start again."""

    def __init__(self, binary: str, port: int, directory: Path) -> None:
        self.url = f"redis://127.0.0.1:{port}/0"
        self._cmd = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                     "--appendonly", "no", "--dir", str(directory)]  # fmt: skip
        self._procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        self._procs.append(
            subprocess.Popen(self._cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
        time.sleep(0.3)

    def stop(self) -> None:
        self._procs[-1].kill()
        self._procs[-1].wait()

    def freeze(self) -> None:
        """Redis hangs: its connections stay open and nothing is answered."""
        self._procs[-1].send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self._procs[-1].send_signal(signal.SIGCONT)

    def close(self) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    binary = shutil.which("redis-server")
    require(binary is not None, "redis-server is not installed")
    assert binary is not None
    redis = PrivateRedis(binary, free_port(), tmp_path)
    redis.start()
    yield redis
    redis.close()
