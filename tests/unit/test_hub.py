"""Fan-out in one process: ordering, gap repair from the store, dropping slow readers, and
closing connections on purpose, here and in other processes."""

from __future__ import annotations

import asyncio
from typing import Any

from server import protocol
from server.broker import MemoryBroker
from server.hub import CLOSE_TOO_SLOW, Connection, Hub, room_channel
from server.rooms import Participant


class FakeSocket:
    """Takes frames at once, or, once stalled, waits as a socket whose peer stopped reading."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.closed: int | None = None
        self.stalled: asyncio.Future[None] | None = None

    def stall(self) -> None:
        self.stalled = asyncio.get_running_loop().create_future()

    def resume(self) -> None:
        assert self.stalled is not None
        self.stalled.set_result(None)
        self.stalled = None

    async def send_text(self, data: str) -> None:
        if self.stalled is not None:
            await self.stalled
        self.sent.append(data)

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.closed = code


def connection(name: str, queue_size: int = 100) -> tuple[Connection, FakeSocket]:
    socket = FakeSocket()
    return Connection(name, person(name), queue_size, socket), socket


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


def drain(socket: FakeSocket) -> list[str]:
    out = list(socket.sent)
    socket.sent.clear()
    return out


async def test_a_full_queue_drops_only_that_connection() -> None:
    store = FakeStore()
    hub = await _hub(store)
    slow, slow_socket = connection("slow", queue_size=8)
    fast, fast_socket = connection("fast", queue_size=1000)
    await _joined(hub, slow)
    await _joined(hub, fast)
    slow_socket.stall()
    for s in range(1, 21):
        await hub.publish(room_channel("r1"), diff(s), s, "e")
    assert slow.dropped
    assert hub.stats["dropped_slow"] >= 1
    assert drain(fast_socket) == [diff(s) for s in range(1, 21)]
    slow_socket.resume()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    # The send under way finishes; what waited behind it is discarded, and the socket closed.
    assert drain(slow_socket) == [diff(1)]
    assert slow_socket.closed == CLOSE_TOO_SLOW
    assert not slow.offer(diff(21))


async def test_a_socket_that_waits_gets_its_frames_in_order_once_it_catches_up() -> None:
    store = FakeStore()
    hub = await _hub(store)
    conn, socket = connection("c", queue_size=8)
    await _joined(hub, conn)
    await hub.publish(room_channel("r1"), diff(1), 1, "e")
    socket.stall()
    for s in range(2, 9):
        await hub.publish(room_channel("r1"), diff(s), s, "e")
    assert drain(socket) == [diff(1)] and conn.waiting == 6 and not conn.flushed
    socket.resume()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert conn.flushed and not conn.dropped
    await hub.publish(room_channel("r1"), diff(9), 9, "e")
    assert drain(socket) == [diff(s) for s in range(2, 10)]


async def test_closing_a_connection_stops_a_waiting_writer() -> None:
    conn, socket = connection("c", queue_size=8)
    socket.stall()
    assert conn.offer("one") and conn.offer("two")
    await conn.close()
    assert conn.flushed and socket.sent == [] and not conn.offer("three")


async def test_frames_that_arrive_out_of_order_are_released_in_order() -> None:
    store = FakeStore()
    hub = await _hub(store)
    conn, socket = connection("c")
    await _joined(hub, conn)
    for s in (2, 3, 1, 5, 4):
        await hub.publish(room_channel("r1"), diff(s), s, "e")
    assert drain(socket) == [diff(s) for s in range(1, 6)]
    assert store.repairs == []


async def test_a_lost_frame_is_fetched_from_the_store() -> None:
    store = FakeStore()
    hub = await _hub(store)
    conn, socket = connection("c")
    await _joined(hub, conn)
    await hub.publish(room_channel("r1"), diff(1), 1, "e")
    await hub.publish(room_channel("r1"), diff(3), 3, "e")  # 2 never comes
    assert drain(socket) == [diff(1)]
    await asyncio.sleep(0.4)
    assert store.repairs == [1]
    got = drain(socket)
    assert got[:2] == [diff(2), diff(3)]


async def test_frames_during_a_snapshot_wait_and_only_newer_ones_follow() -> None:
    store = FakeStore()
    hub = await _hub(store)
    conn, socket = connection("c")
    conn.start_room("r1")
    await hub.listen(conn, room_channel("r1"))
    for s in (1, 2, 3):
        await hub.publish(room_channel("r1"), diff(s), s, "e")
    assert drain(socket) == []  # held while the snapshot is read
    conn.offer("SNAPSHOT@2")
    conn.activate_room("r1", 2)
    assert drain(socket) == ["SNAPSHOT@2", diff(3)]


async def test_an_ended_connection_gets_its_last_frame_after_the_waiting_ones() -> None:
    idle, idle_socket = connection("idle")
    idle.end("bye", 4403, "removed")
    assert idle.closing and not idle.offer("later")
    await asyncio.sleep(0)
    assert idle_socket.sent == ["bye"] and idle_socket.closed == 4403

    busy, busy_socket = connection("busy")
    busy_socket.stall()
    assert busy.offer("one") and busy.offer("two")
    busy.end("bye", 4403, "removed")
    assert not busy.offer("three")
    assert busy_socket.closed is None  # not before what waits is written
    busy_socket.resume()
    for _ in range(4):
        await asyncio.sleep(0)
    assert busy_socket.sent == ["one", "two", "bye"] and busy_socket.closed == 4403
    assert not busy.dropped  # closed on purpose, not for being slow


class SharedBroker:
    """Two processes' brokers on one bus: each message reaches the other subscribers."""

    reaches_others = True

    def __init__(self, bus: list[SharedBroker]) -> None:
        self.bus = bus
        self.channels: set[str] = set()
        self.handler: Any = None
        bus.append(self)

    async def start(self, handler: Any, resync: Any) -> None:
        self.handler = handler

    async def subscribe(self, channel: str) -> None:
        self.channels.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self.channels.discard(channel)

    async def publish(self, channel: str, message: str) -> None:
        for broker in self.bus:
            if channel in broker.channels and broker.handler is not None:
                broker.handler(channel, message)

    async def heard_elsewhere(self, channel: str) -> bool:
        return True

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None


async def test_a_close_order_reaches_the_channels_listeners_in_every_process() -> None:
    store = FakeStore()
    bus: list[SharedBroker] = []
    here = Hub(SharedBroker(bus), store.head, store.since)
    there = Hub(SharedBroker(bus), store.head, store.since)
    await here.start()
    await there.start()
    mine, mine_socket = connection("p1")
    other_process, other_socket = connection("p1")
    bystander, bystander_socket = connection("p2")
    await here.listen(mine, "person:p1")
    await there.listen(other_process, "person:p1")
    await there.listen(bystander, "person:p2")
    # An ordinary frame on the same channel is only delivered.
    await here.publish("person:p1", "moved")
    await here.close_channel("person:p1", "removed", 4403, "removed")
    for _ in range(3):
        await asyncio.sleep(0)
    for socket in (mine_socket, other_socket):
        assert socket.sent == ["moved", "removed"] and socket.closed == 4403
    assert bystander_socket.sent == [] and bystander_socket.closed is None
    assert not bystander.closing
