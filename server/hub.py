"""This process's connections and the channels they listen to.

Every frame is encoded once and written to each recipient's socket; a socket that cannot take
it at once gets a bounded backlog drained by a writer task. A connection whose backlog is full
is dropped (it reconnects and catches up from its last sequence number) instead of slowing the
room down.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator, Iterator
from typing import Any, Protocol

from . import protocol
from .broker import Broker, BrokerError
from .ordering import RoomSequencer
from .raw_frames import LARGE_FRAME, RawFrames, text_frame
from .rooms import Participant

log = logging.getLogger("tablee.hub")

CLOSE_TOO_SLOW = 1013
REPAIR_DELAY = 0.2
# Every hub listens here: orders to close the connections on a channel, whichever process
# holds them. Not a channel of frames: nothing on it is forwarded to a socket.
CLOSINGS = "hub:close"
# A connection that starts listening on a channel closed this recently is closed at once: it
# was let in (its token read) just before the close, and heard the order before listening.
CLOSED_MEMORY_SECONDS = 60.0


def room_channel(room_id: str) -> str:
    return f"room:{room_id}"


def event_channel(event_id: str) -> str:
    return f"event:{event_id}"


def staff_channel(event_id: str) -> str:
    """Facilitators' consoles: what only staff need, such as live head counts."""
    return f"staff:{event_id}"


def themes_channel(event_id: str) -> str:
    """Every theme watcher: live placements of new notes (`themes.assigned`)."""
    return f"themes:{event_id}"


def theme_snapshots_channel(event_id: str) -> str:
    """Watchers taking the whole snapshot after each re-clustering."""
    return f"theme-snapshots:{event_id}"


def theme_diffs_channel(event_id: str) -> str:
    """Watchers taking each re-clustering as a diff from the version they hold."""
    return f"theme-diffs:{event_id}"


def pack(origin: str, frame: str, seq: int | None = None, epoch: str | None = None) -> str:
    """Broker message: a one-line header (sending process, room seq, epoch), then the frame."""
    return f"{origin} {seq if seq is not None else '-'} {epoch or '-'}\n{frame}"


def closing_order(channel: str, frame: str, code: int, reason: str) -> str:
    """The body of an order on CLOSINGS: close `channel`'s connections after `frame`."""
    return json.dumps({"channel": channel, "frame": frame, "code": code, "reason": reason})


def unpack(message: str) -> tuple[str, int | None, str | None, str]:
    header, _, frame = message.partition("\n")
    origin, seq_s, epoch = header.split(" ", 2)
    seq = int(seq_s) if seq_s != "-" else None
    return origin, seq, (epoch if epoch != "-" else None), frame


class Socket(Protocol):
    """Where a connection's frames go: Starlette's WebSocket, or a test's stand-in."""

    async def send_text(self, data: str) -> None: ...

    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


class Connection:
    """One socket's subscriptions, and the frames on their way to it.

    A frame is written at once while the socket keeps up: no queue and no task wake-up per
    delivery. Only when a send has to wait for the socket does a writer task take over,
    with later frames held behind it in a backlog of at most `queue_size`; one more and
    the connection is dropped.
    """

    __slots__ = (
        "_backlog",
        "_closing",
        "_corked",
        "_gone",
        "_pending",
        "_raw",
        "_socket",
        "_writer",
        "channels",
        "dropped",
        "id",
        "participant",
        "queue_size",
        "room_heads",
    )

    def __init__(
        self,
        id: str,
        participant: Participant,
        queue_size: int,
        socket: Socket,
        raw: RawFrames | None = None,
    ) -> None:
        self.id = id
        self.participant = participant
        self.queue_size = queue_size
        # room id -> last seq given to this connection; None while its snapshot is being read.
        self.room_heads: dict[str, int | None] = {}
        self._pending: dict[str, list[tuple[int | None, str]]] = {}
        self.channels: set[str] = set()
        self.dropped = False
        self._socket = socket
        self._raw = raw
        self._corked: list[str] | None = None
        self._backlog: deque[str] | None = None  # made when a send first has to wait
        self._writer: asyncio.Task[None] | None = None
        # No more frames: the socket failed (the receive loop is seeing the disconnect), or
        # the server is closing it (`end`).
        self._gone = False
        self._closing: tuple[int, str] | None = None  # close code and reason, after the backlog

    @property
    def waiting(self) -> int:
        """Frames held back because the socket is not keeping up."""
        return len(self._backlog) if self._backlog is not None else 0

    @property
    def flushed(self) -> bool:
        return self._writer is None

    @property
    def closing(self) -> bool:
        """The server is closing this socket (`end`): its requests are no longer handled."""
        return self._closing is not None

    def offer(self, frame: str) -> bool:
        if self.dropped or self._gone:
            return False
        if self._writer is not None:
            backlog = self._backlog
            if backlog is None:
                backlog = self._backlog = deque()
            if len(backlog) >= self.queue_size:
                self._drop()
                return False
            backlog.append(frame)
            return True
        if self._raw is not None:
            if self._corked is not None:
                self._corked.append(frame)
                return True
            if len(frame) > LARGE_FRAME and self._raw.ready():
                # Later frames wait in the backlog, behind the slices, as behind a slow send.
                sliced = self._raw.write_sliced(text_frame(frame))
                self._writer = asyncio.get_running_loop().create_task(self._write(sliced))
                return True
            if self._raw.write(text_frame(frame)):
                return True
        return self._send(frame)

    def _send(self, frame: str) -> bool:
        """Through ASGI, waiting for the socket in a writer task if it must."""
        send = self._socket.send_text(frame)
        try:
            waiting_on = send.send(None)
        except StopIteration:
            return True
        except Exception:
            self._gone = True
            return False
        self._writer = asyncio.get_running_loop().create_task(
            self._write(_Resumed(send, waiting_on))
        )
        return True

    @contextlib.contextmanager
    def corked(self) -> Iterator[None]:
        """Hold this connection's frames, then write them in one go: an author's
        acknowledgement and the note it sees posted, one write to the socket, not two."""
        if self._raw is None or self._corked is not None:
            yield
            return
        self._corked = []
        try:
            yield
        finally:
            frames, self._corked = self._corked, None
            if frames and not (self.dropped or self._gone):
                data = b"".join(text_frame(frame) for frame in frames)
                if not self._raw.write(data):
                    for frame in frames:
                        self.offer(frame)

    async def _write(self, first: Awaitable[None]) -> None:
        try:
            await first
            while self._backlog and not self.dropped:
                await self._socket.send_text(self._backlog.popleft())
            if self.dropped:
                log.info("dropping a connection that cannot keep up")
                await self._socket.close(
                    code=CLOSE_TOO_SLOW, reason="too slow; reconnect to resume"
                )
            elif self._closing is not None:
                await self._socket.close(code=self._closing[0], reason=self._closing[1])
        except asyncio.CancelledError:
            raise
        except Exception:
            self._gone = True
        finally:
            self._writer = None
            self._backlog = None

    def end(self, frame: str, code: int, reason: str) -> None:
        """Send `frame` as the last one, then close the socket with `code` once every frame
        before it is written."""
        if self.dropped or self._gone:
            return
        if self._corked is not None:
            # Frames held for one write were meant to go before this one.
            held, self._corked = self._corked, None
            for item in held:
                self.offer(item)
        self.offer(frame)
        if self.dropped or self._gone:
            return  # too slow, or failed: the socket is going anyway
        self._gone = True
        self._closing = (code, reason)
        if self._writer is None:
            loop = asyncio.get_running_loop()
            written: asyncio.Future[None] = loop.create_future()
            written.set_result(None)  # nothing to wait for before the close
            self._writer = loop.create_task(self._write(written))

    def _drop(self) -> None:
        self.dropped = True
        self._backlog = None  # the writer closes the socket once its current send is done

    async def close(self) -> None:
        """Stop writing: the socket is going away."""
        self._gone = True
        self._backlog = None
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer

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


class _Resumed:
    """Awaiting this finishes a coroutine that was started by hand and had to wait.

    `Connection.offer` runs a send up to its first wait, which on a socket that keeps up
    never comes; when it does, the writer task carries the same coroutine on from there, as
    `await` would have: each future it waits on is handed to the task, and a cancellation
    is thrown into it.
    """

    __slots__ = ("_coro", "_waiting_on")

    def __init__(self, coro: Coroutine[Any, Any, None], waiting_on: Any) -> None:
        self._coro = coro
        self._waiting_on = waiting_on

    def __await__(self) -> Generator[Any, Any, None]:
        coro, waiting_on = self._coro, self._waiting_on
        while True:
            try:
                value = yield waiting_on
            except BaseException as exc:
                try:
                    waiting_on = coro.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    waiting_on = coro.send(value)
                except StopIteration:
                    return


Repair = Callable[[str, int, str], Awaitable[list[str] | None]]
Head = Callable[[str], Awaitable[tuple[int, str]]]
Order = Callable[[str], None]
"""Handles the body of an order another process sent (`Hub.on_order`); must not block."""


class Hub:
    def __init__(self, broker: Broker, head: Head, repair: Repair) -> None:
        self._broker = broker
        self._head = head
        self._repair = repair
        self._listeners: dict[str, set[Connection]] = {}
        self._sequencers: dict[str, RoomSequencer] = {}
        self._opening: dict[str, asyncio.Future[None]] = {}
        self._repairs: dict[str, asyncio.Task[None]] = {}
        self._orders: dict[str, Order] = {CLOSINGS: self._closing_order}
        # channel -> (when, last frame, code, reason) of its recent closes, oldest first
        self._closed: dict[str, tuple[float, str, int, str]] = {}
        self.connections: set[Connection] = set()
        self.origin = uuid.uuid4().hex[:12]
        self.stats: dict[str, int] = {
            "published": 0,
            "delivered": 0,
            "dropped_slow": 0,
            "broker_errors": 0,
            "repairs": 0,
        }

    def on_order(self, channel: str, handler: Order) -> None:
        """Messages on `channel` are orders to this process, not frames for sockets: each one
        another process sends (`order`) goes to `handler`. Register before `start`."""
        self._orders[channel] = handler

    async def start(self) -> None:
        # Before starting, so the broker's first subscription already includes them.
        for channel in self._orders:
            await self._broker.subscribe(channel)
        await self._broker.start(self._on_message, self.resync)

    async def ping_broker(self) -> None:
        await self._broker.ping()

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
        closed = self._closed.get(channel)
        if closed is not None and time.monotonic() - closed[0] < CLOSED_MEMORY_SECONDS:
            conn.end(*closed[1:])

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

    async def heard(self, channel: str) -> bool:
        """Whether anyone, here or in another process, may be listening on `channel`."""
        if self._listeners.get(channel):
            return True
        if not self._broker.reaches_others:
            return False
        return await self._broker.heard_elsewhere(channel)

    async def publish(
        self, channel: str, frame: str, seq: int | None = None, epoch: str | None = None
    ) -> None:
        """Deliver here at once, then to other processes through the broker.

        Local delivery does not wait on the broker, so a table keeps working on one process
        while the broker is away; other processes repair the gap from the store.
        """
        self.stats["published"] += 1
        self._deliver(channel, seq, epoch, frame)
        if not self._broker.reaches_others:
            return
        try:
            await self._broker.publish(channel, pack(self.origin, frame, seq, epoch))
        except BrokerError as exc:
            self.stats["broker_errors"] += 1
            log.warning("broker publish failed on %s: %s", channel.split(":", 1)[0], exc)

    async def close_channel(self, channel: str, frame: str, code: int, reason: str) -> None:
        """Every connection listening on `channel`, here and in every other process, gets
        `frame` as its last and is then closed with `code`."""
        self._close_here(channel, frame, code, reason)
        await self.order(CLOSINGS, closing_order(channel, frame, code, reason))

    async def order(self, channel: str, body: str) -> None:
        """Send `body` to the handler of `channel` (`on_order`) in every other process."""
        if not self._broker.reaches_others:
            return
        try:
            await self._broker.publish(channel, pack(self.origin, body))
        except BrokerError as exc:
            # Unlike a room's diffs, nothing repairs an order from the store: say so loudly.
            # Connections elsewhere stay open; their token is refused on reconnecting.
            self.stats["broker_errors"] += 1
            log.error("could not send an order on %s to other processes: %s", channel, exc)

    def _closing_order(self, body: str) -> None:
        order = json.loads(body)
        self._close_here(order["channel"], order["frame"], order["code"], order["reason"])

    def _close_here(self, channel: str, frame: str, code: int, reason: str) -> None:
        now = time.monotonic()
        self._closed.pop(channel, None)
        self._closed[channel] = (now, frame, code, reason)
        while next(iter(self._closed.values()))[0] < now - CLOSED_MEMORY_SECONDS:
            del self._closed[next(iter(self._closed))]
        for conn in tuple(self._listeners.get(channel, ())):
            conn.end(frame, code, reason)

    def _on_message(self, channel: str, message: str) -> None:
        origin, seq, epoch, frame = unpack(message)
        if origin == self.origin:
            return
        order = self._orders.get(channel)
        if order is not None:  # rare, and parsed only here, off the frames' path
            order(frame)
            return
        self._deliver(channel, seq, epoch, frame)

    def resync(self) -> None:
        """After a broker outage: check every room for frames missed meanwhile."""
        for channel in self._sequencers:
            if channel not in self._repairs:
                self._repairs[channel] = asyncio.create_task(self._repair_gap(channel, force=True))

    def _deliver(self, channel: str, seq: int | None, epoch: str | None, frame: str) -> None:
        listeners = self._listeners.get(channel)
        if not listeners:
            return
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
            if conn.dropped:
                continue  # its writer is closing it; it leaves the channel shortly
            if room is not None:
                conn.deliver(room, seq, frame)
            else:
                conn.offer(frame)
            if conn.dropped:
                self.stats["dropped_slow"] += 1
        self.stats["delivered"] += len(listeners)

    async def _repair_gap(self, channel: str, force: bool = False) -> None:
        """Fetch from the store the frames fan-out did not bring in time."""
        try:
            await asyncio.sleep(REPAIR_DELAY)
            sequencer = self._sequencers.get(channel)
            if sequencer is None or (sequencer.missing() is None and not force):
                return
            self.stats["repairs"] += 1
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
