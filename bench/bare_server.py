"""The floor for fan-out: a bare `websockets` server that relays each message to its room.

Clients connect to /ROOM; whatever one sends is broadcast, encoded once, to everyone in
that room and to every watcher (a client on /*, as a facilitator watching every table).
No storage, no checks: what any room server must at least do.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from collections import defaultdict

from websockets.asyncio.server import ServerConnection, broadcast, serve

rooms: dict[str, set[ServerConnection]] = defaultdict(set)
watchers: set[ServerConnection] = set()


async def handler(ws: ServerConnection) -> None:
    room = ws.request.path if ws.request is not None else "/"
    members = watchers if room == "/*" else rooms[room]
    members.add(ws)
    try:
        async for message in ws:
            broadcast(itertools.chain(rooms[room], watchers), message)
    finally:
        members.discard(ws)


async def main(port: int, keepalive: float) -> None:
    # The same keepalive as the server it is compared with: idle sockets' pings cost CPU too.
    async with serve(
        handler,
        "127.0.0.1",
        port,
        compression=None,
        max_size=65536,
        ping_interval=keepalive,
        ping_timeout=keepalive,
    ):
        print("READY", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 20.0))
