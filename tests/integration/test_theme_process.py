"""The model's child process does not outlive a server killed outright."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HOLDER = """
import asyncio, sys
from nlp.runner import ProcessRunner

async def main() -> None:
    runner = ProcessRunner("hashing")
    await runner.start()
    print("ready", flush=True)
    await asyncio.sleep(120)

asyncio.run(main())
"""


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.update(int(c) for c in text)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_the_theme_process_exits_when_its_server_is_killed() -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        children = _children(holder.pid)
        assert children, "the runner started no process"
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(5)
        started = time.monotonic()
        while any(_alive(c) for c in children) and time.monotonic() - started < 10:
            time.sleep(0.1)
        left = [c for c in children if _alive(c)]
        for pid in left:  # a failing run must not leave them either
            os.kill(pid, signal.SIGKILL)
        print(f"theme process gone {time.monotonic() - started:.1f} s after kill -9 of its server")
        assert left == [], f"still running after 10 s: {left}"
    finally:
        if holder.poll() is None:
            holder.kill()
