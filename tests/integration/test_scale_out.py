"""Several server processes sharing PostgreSQL and Redis behave as one."""

from __future__ import annotations

import asyncio

import pytest

from tests.client import Client, create_event, join
from tests.conftest import LiveServer

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


async def test_clients_on_two_processes_see_the_same_notes_in_the_same_order(
    two_processes: tuple[LiveServer, LiveServer],
) -> None:
    one, two = two_processes
    fac = await create_event(one.url, rooms=2)
    code = fac.event["join_code"]
    room = fac.rooms[0]["id"]
    people = [await join(one.url, code, f"P{i}", room_id=room) for i in range(4)]
    # Two on each process.
    clients = [
        await Client.open((one if i % 2 == 0 else two).ws_url, s) for i, s in enumerate(people)
    ]
    try:
        for c in clients:
            await c.join_room(room)

        async def post(c: Client, n: int) -> None:
            for i in range(n):
                assert (await c.post(room, f"{c.session.participant['pseudonym']} {i}"))[
                    "type"
                ] == "ack"

        await asyncio.gather(*(post(c, 15) for c in clients))

        async def seen(c: Client) -> list[tuple[int, str]]:
            out = []
            while len(out) < 60:
                f = await c.next("note.added", timeout=15)
                out.append((f["seq"], f["payload"]["note"]["id"]))
            return out

        views = await asyncio.gather(*(seen(c) for c in clients))
        assert all(v == views[0] for v in views)
        assert [s for s, _ in views[0]] == list(range(1, 61))
        print("4 clients on 2 processes: 60 notes, identical order, seq 1..60")
    finally:
        for c in clients:
            await c.close()
