"""Fan-out in one process: ordering, gap repair from the store, and dropping slow readers."""

from __future__ import annotations

import asyncio

from server import protocol
from server.broker import MemoryBroker
from server.hub import Connection, Hub, room_channel
from server.rooms import Participant


def person(pid: str) -> Participant:
    return Participant(pid, "e1", pid, "participant", "r1")


def diff(seq: int) -> str:
    return protocol.encode("note.deleted", {"id": f"n{seq}"}, room="r1", seq=seq, epoch="e")


class FakeStore:
    def __init__(self) -> None:
        self.frames = {s: diff(s) for s in range(1, 50)}
        self.repairs: list[int] = []

    async def head(self, room: str) -> tuple[int, str]:
        return 0, "e"

    async def since(self, room: str, after: int, epoch: str) -> list[str] | None:
        self.repairs.append(after)
        return [self.frames[s] for s in range(after + 1, max(self.frames) + 1)]


async def _hub(store: FakeStore) -> Hub:
    hub = Hub(MemoryBroker(), store.head, store.since)
    await hub.start()
    return hub


async def _joined(hub: Hub, conn: Connection) -> None:
    conn.start_room("r1")
    await hub.listen(conn, room_channel("r1"))
    conn.activate_room("r1", 0)


def drain(conn: Connection) -> list[str]:
    out = []
    while not conn.queue.empty():
        item = conn.queue.get_nowait()
        assert item is not None
        out.append(item)
    return out


async def test_a_full_queue_drops_only_that_connection() -> None:
    store = FakeStore()
    hub = await _hub(store)
    slow = Connection("slow", person("s"), queue_size=8)
    fast = Connection("fast", person("f"), queue_size=1000)
    await _joined(hub, slow)
    await _joined(hub, fast)
    for s in range(1, 21):
        await hub.publish(room_channel("r1"), diff(s), s, "e")
    assert slow.dropped
    assert slow.queue.get_nowait() is None  # the writer's cue to close the socket
    assert hub.stats["dropped_slow"] >= 1
    assert drain(fast) == [diff(s) for s in range(1, 21)]


async def test_frames_that_arrive_out_of_order_are_released_in_order() -> None:
    store = FakeStore()
    hub = await _hub(store)
    conn = Connection("c", person("c"), queue_size=100)
    await _joined(hub, conn)
    for s in (2, 3, 1, 5, 4):
        await hub.publish(room_channel("r1"), diff(s), s, "e")
    assert drain(conn) == [diff(s) for s in range(1, 6)]
    assert store.repairs == []


async def test_a_lost_frame_is_fetched_from_the_store() -> None:
    store = FakeStore()
    hub = await _hub(store)
    conn = Connection("c", person("c"), queue_size=100)
    await _joined(hub, conn)
    await hub.publish(room_channel("r1"), diff(1), 1, "e")
    await hub.publish(room_channel("r1"), diff(3), 3, "e")  # 2 never comes
    assert drain(conn) == [diff(1)]
    await asyncio.sleep(0.4)
    assert store.repairs == [1]
    got = drain(conn)
    assert got[:2] == [diff(2), diff(3)]


async def test_frames_during_a_snapshot_wait_and_only_newer_ones_follow() -> None:
    store = FakeStore()
    hub = await _hub(store)
    conn = Connection("c", person("c"), queue_size=100)
    conn.start_room("r1")
    await hub.listen(conn, room_channel("r1"))
    for s in (1, 2, 3):
        await hub.publish(room_channel("r1"), diff(s), s, "e")
    assert drain(conn) == []  # held while the snapshot is read
    conn.offer("SNAPSHOT@2")
    conn.activate_room("r1", 2)
    assert drain(conn) == ["SNAPSHOT@2", diff(3)]
