"""Theme workers as separate processes on the Redis job stream, and a worker killed mid-run."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.store import Store
from tests.client import Client, create_event, join
from tests.conftest import ROOT

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.model]


class WorkerProcess:
    def __init__(self, tmp: Path, name: str, env: dict[str, str]) -> None:
        self.log_path = tmp / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "worker"],
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
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Any]:
    started: list[WorkerProcess] = []

    def start(name: str, env: dict[str, str]) -> WorkerProcess:
        w = WorkerProcess(tmp_path, name, env)
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()


def _covered(payload: dict[str, Any]) -> set[str]:
    ids = [n for t in payload["themes"] for n in t["note_ids"]]
    ids += [u["id"] for u in payload["unthemed"]]
    assert len(ids) == len(set(ids)), "a note appears twice in one snapshot"
    return set(ids)


async def test_a_worker_killed_mid_run_loses_no_theme_job(
    start_server: Any, workers: Any, postgres_url: str
) -> None:
    stream = f"tablee:test:{uuid.uuid4().hex[:8]}"
    env = {
        "TABLEE_DATABASE_URL": postgres_url,
        "TABLEE_BROKER_URL": "redis://127.0.0.1:6379/0",
        "TABLEE_SECRET_KEY": "k-" + uuid.uuid4().hex,
        "TABLEE_WORKER": "external",
        "TABLEE_WORKER_CLAIM_IDLE_SECONDS": "2",
        "TABLEE_WORKER_SWEEP_SECONDS": "3",
        "TABLEE_JOBS_STREAM": stream,
    }
    server = start_server(name="srv", **env)
    one = workers("w1", env)
    one.wait_for("ready", 120)
    two = workers("w2", env)
    two.wait_for("ready", 120)

    fac_s = await create_event(server.url, rooms=4)
    code = fac_s.event["join_code"]
    fac = await Client.open(server.ws_url, fac_s)
    await fac.request("themes.watch", {})
    people = [
        await Client.open(
            server.ws_url, await join(server.url, code, f"P{i}", fac_s.rooms[i % 4]["id"])
        )
        for i in range(8)
    ]
    texts = [
        line.strip() for line in (ROOT / "tests" / "data" / "notes.txt").read_text().splitlines()
    ]
    texts = [t for t in texts if t]
    acked: set[str] = set()
    try:
        for i, text in enumerate(texts * 3):
            c = people[i % len(people)]
            reply = await c.post(c.session.room_id, f"{text} ({i})")
            acked.add(reply["payload"]["note"]["id"])
        # Kill whichever worker starts the run, while it embeds.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        victim = None
        while victim is None and loop.time() < deadline:
            for w in (one, two):
                if "refreshing themes" in w.log():
                    victim = w
                    break
            await asyncio.sleep(0.01)
        assert victim is not None, "no worker picked up the job"
        victim.kill9()
        killed_at = loop.time()
        survivor = two if victim is one else one

        async with asyncio.timeout(60):
            while True:
                snap = (await fac.next("themes.snapshot", timeout=60))["payload"]
                if acked <= _covered(snap):
                    break
        took = loop.time() - killed_at
        print(
            f"worker killed mid-run; {len(acked)} notes themed by the survivor {took:.1f} s later"
        )
        assert "refreshing themes" in survivor.log()
        store = Store(postgres_url)
        try:
            latest = await store.latest_themes(fac_s.event["id"])
        finally:
            await store.close()
        assert latest is not None and acked <= _covered(latest)
    finally:
        for c in (*people, fac):
            await c.close()
