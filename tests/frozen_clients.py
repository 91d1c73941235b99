"""Connects participants and then goes quiet; the test freezes this process with SIGSTOP.

A stopped process keeps its sockets open but answers nothing, not even pings: what a server
sees of a phone whose network vanished. Input on stdin: a JSON list of
{"ws_url", "token", "room"}; prints READY once every client has joined its room.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from server.protocol import SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX


async def main() -> None:
    specs = json.loads(sys.stdin.read())
    sockets = []
    for spec in specs:
        ws = await connect(
            spec["ws_url"],
            subprotocols=[
                Subprotocol(SUBPROTOCOL),
                Subprotocol(TOKEN_SUBPROTOCOL_PREFIX + spec["token"]),
            ],
        )
        await ws.send(
            json.dumps({"v": 1, "type": "room.join", "ref": "j", "payload": {"room": spec["room"]}})
        )
        while json.loads(await ws.recv())["type"] != "room.joined":
            pass
        sockets.append(ws)
    print("READY", flush=True)
    await asyncio.Event().wait()


def freeze(specs: list[dict[str, str]]) -> subprocess.Popen[str]:
    """Start the clients in their own process, wait until they joined, then SIGSTOP it.

    Blocking: call it from a thread in async tests, or the caller's own clients stop
    answering pings while it waits.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.frozen_clients"],
        cwd=Path(__file__).resolve().parents[1],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(specs))
    proc.stdin.close()
    if proc.stdout.readline().strip() != "READY":
        proc.kill()
        raise RuntimeError("the clients to freeze did not all join")
    proc.send_signal(signal.SIGSTOP)
    return proc


if __name__ == "__main__":
    asyncio.run(main())
