"""This process's connections and the channels they listen to.

Every frame is encoded once and handed to each recipient's bounded queue; a writer task per
connection drains it. A connection whose queue is full is dropped (it reconnects and catches
up from its last sequence number) instead of slowing the room down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from . import protocol
from .broker import Broker
from .ordering import RoomSequencer
from .rooms import Participant

log = logging.getLogger("tablee.hub")

CLOSE_TOO_SLOW = 1013
REPAIR_DELAY = 0.2


def room_channel(room_id: str) -> str:
    return f"room:{room_id}"


def event_channel(event_id: str) -> str:
    return f"event:{event_id}"


def themes_channel(event_id: str) -> str:
    return f"themes:{event_id}"


def pack(frame: str, seq: int | None = None, epoch: str | None = None) -> str:
    """Broker message: a one-line header with the room seq and epoch, then the frame."""
    return f"{seq if seq is not None else '-'} {epoch or '-'}\n{frame}"


def unpack(message: str) -> tuple[int | None, str | None, str]:
    header, _, frame = message.partition("\n")
    seq_s, _, epoch = header.partition(" ")
    seq = int(seq_s) if seq_s != "-" else None
    return seq, (epoch if epoch != "-" else None), frame


@dataclass(eq=False)
class Connection:
    id: str
    participant: Participant
    queue_size: int
    queue: asyncio.Queue[str | None] = field(init=False)
    # room id -> last seq given to this connection; None while its snapshot is being read.
    room_heads: dict[str, int | None] = field(default_factory=dict)
    _pending: dict[str, list[tuple[int | None, str]]] = field(default_factory=dict)
    channels: set[str] = field(default_factory=set)
    dropped: bool = False

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(self.queue_size)

    def offer(self, frame: str) -> bool:
        if self.dropped:
            return False
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self._drop()
            return False
        return True

    def _drop(self) -> None:
        self.dropped = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)  # tells the writer to close the socket

    def deliver(self, room: str, seq: int | None, frame: str) -> None:
        if room not in self.room_heads:
            return
        head = self.room_heads[room]
        if head is None:
            self._pending.setdefault(room, []).append((seq, frame))
        elif seq is None:
            self.offer(frame)
        elif seq > head:
            self.room_heads[room] = seq
            self.offer(frame)

    def start_room(self, room: str) -> None:
        self.room_heads[room] = None

    def activate_room(self, room: str, seq: int) -> None:
        """The snapshot up to `seq` is sent: release what arrived meanwhile, after it."""
        self.room_heads[room] = seq
        for item_seq, frame in self._pending.pop(room, []):
            self.deliver(room, item_seq, frame)

    def stop_room(self, room: str) -> None:
        self.room_heads.pop(room, None)
        self._pending.pop(room, None)


Repair = Callable[[str, int, str], Awaitable[list[str] | None]]
Head = Callable[[str], Awaitable[tuple[int, str]]]


class Hub:
    def __init__(self, broker: Broker, head: Head, repair: Repair) -> None:
        self._broker = broker
        self._head = head
        self._repair = repair
        self._listeners: dict[str, set[Connection]] = {}
        self._sequencers: dict[str, RoomSequencer] = {}
        self._opening: dict[str, asyncio.Future[None]] = {}
        self._repairs: dict[str, asyncio.Task[None]] = {}
        self.connections: set[Connection] = set()
        self.stats: dict[str, int] = {"published": 0, "delivered": 0, "dropped_slow": 0}

    async def start(self) -> None:
        await self._broker.start(self._on_message)

    async def close(self) -> None:
        for task in self._repairs.values():
            task.cancel()
        await self._broker.close()

    def add(self, conn: Connection) -> None:
        self.connections.add(conn)

    async def remove(self, conn: Connection) -> None:
        self.connections.discard(conn)
        for channel in list(conn.channels):
            await self.unlisten(conn, channel)

    async def listen(self, conn: Connection, channel: str) -> None:
        """Subscribe a connection; a room channel starts ordered from the stored head."""
        conn.channels.add(channel)
        listeners = self._listeners.setdefault(channel, set())
        listeners.add(conn)
        if len(listeners) == 1 and channel not in self._opening:
            opening: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._opening[channel] = opening
            try:
                await self._broker.subscribe(channel)
                if channel.startswith("room:"):
                    # Read after subscribing: anything published before this read was
                    # committed before it, so the head covers it and nothing falls between.
                    seq, epoch = await self._head(channel[5:])
                    self._sequencers[channel] = RoomSequencer(seq, epoch)
            finally:
                del self._opening[channel]
                opening.set_result(None)
        elif channel in self._opening:
            await asyncio.shield(self._opening[channel])

    async def unlisten(self, conn: Connection, channel: str) -> None:
        conn.channels.discard(channel)
        listeners = self._listeners.get(channel)
        if listeners is None:
            return
        listeners.discard(conn)
        if not listeners and channel not in self._opening:
            del self._listeners[channel]
            self._sequencers.pop(channel, None)
            task = self._repairs.pop(channel, None)
            if task is not None:
                task.cancel()
            await self._broker.unsubscribe(channel)

    async def publish(
        self, channel: str, frame: str, seq: int | None = None, epoch: str | None = None
    ) -> None:
        self.stats["published"] += 1
        await self._broker.publish(channel, pack(frame, seq, epoch))

    def _on_message(self, channel: str, message: str) -> None:
        listeners = self._listeners.get(channel)
        if not listeners:
            return
        seq, epoch, frame = unpack(message)
        if seq is None or not channel.startswith("room:"):
            self._fan_out(channel, listeners, None, frame)
            return
        sequencer = self._sequencers.get(channel)
        if sequencer is None:
            return  # still opening: the head read that follows covers this frame
        for ready_seq, ready in sequencer.accept(seq, epoch or "", frame):
            self._fan_out(channel, listeners, ready_seq, ready)
        if sequencer.missing() is not None and channel not in self._repairs:
            self._repairs[channel] = asyncio.create_task(self._repair_gap(channel))

    def _fan_out(
        self, channel: str, listeners: set[Connection], seq: int | None, frame: str
    ) -> None:
        room = channel[5:] if channel.startswith("room:") else None
        for conn in tuple(listeners):
            if room is not None:
                conn.deliver(room, seq, frame)
            else:
                conn.offer(frame)
            if conn.dropped:
                self.stats["dropped_slow"] += 1
        self.stats["delivered"] += len(listeners)

    async def _repair_gap(self, channel: str) -> None:
        """Fetch from the store the frames fan-out did not bring in time."""
        try:
            await asyncio.sleep(REPAIR_DELAY)
            sequencer = self._sequencers.get(channel)
            if sequencer is None or sequencer.missing() is None:
                return
            frames = await self._repair(channel[5:], sequencer.head, sequencer.epoch)
            listeners = self._listeners.get(channel, set())
            if frames is None:
                seq, epoch = await self._head(channel[5:])
                sequencer.reset(seq, epoch)
                reset = protocol.encode("room.reset", {"room": channel[5:]}, room=channel[5:])
                for conn in tuple(listeners):
                    conn.stop_room(channel[5:])
                    conn.offer(reset)
                return
            first = sequencer.head + 1
            for i, frame in enumerate(frames):
                for ready_seq, ready in sequencer.accept(first + i, sequencer.epoch, frame):
                    self._fan_out(channel, listeners, ready_seq, ready)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("gap repair failed for %s", channel)
        finally:
            self._repairs.pop(channel, None)
            sequencer = self._sequencers.get(channel)
            if sequencer is not None and sequencer.missing() is not None:
                with contextlib.suppress(RuntimeError):
                    self._repairs[channel] = asyncio.create_task(self._repair_gap(channel))
