"""Frames written straight to the transport: the same bytes websockets would send, and only
while the socket is open and keeping up."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.server import ServerProtocol
from websockets.streams import StreamReader

from server.hub import Connection
from server.raw_frames import LARGE_FRAME, SLICE_BYTES, RawFrames, text_frame
from tests.unit.test_hub import FakeSocket, person


def _parse(data: bytes) -> Frame:
    reader = StreamReader()
    reader.feed_data(data)
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        frame: Frame = done.value
        return frame
    raise AssertionError("incomplete frame")


@pytest.mark.parametrize("length", [0, 1, 125, 126, 500, 65535, 65536, 300_000])
def test_a_text_is_framed_as_websockets_frames_it(length: int) -> None:
    text = ("é" * length)[:length]
    data = text_frame(text)
    frame = _parse(data)
    assert frame.opcode is Opcode.TEXT and frame.fin and frame.data.decode() == text
    # A server's frame is what websockets' own server protocol would write.
    protocol = ServerProtocol()
    protocol.state = State.OPEN
    protocol.send_text(text.encode())
    assert data == b"".join(protocol.data_to_send())


def test_a_fan_out_frames_its_text_once() -> None:
    text = "x" * 300
    assert text_frame(text) is text_frame(text)
    other = "".join(["x"] * 300)  # equal, but another string: framed again, same bytes
    assert text_frame(other) == text_frame(text)


class FakeTransport:
    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)


def _protocol() -> Any:
    writable = asyncio.Event()
    writable.set()
    conn = SimpleNamespace(state=State.OPEN, extensions=[])
    return SimpleNamespace(
        conn=conn,
        transport=FakeTransport(),
        writable=writable,
        close_sent=False,
        disconnected=False,
    )


async def test_frames_go_straight_out_while_the_socket_keeps_up_and_through_asgi_otherwise() -> (
    None
):
    p = _protocol()
    socket = FakeSocket()
    conn = Connection("c", person("c"), 10, socket, RawFrames(p))
    assert conn.offer("one")
    assert [_parse(d).data for d in p.transport.written] == [b"one"] and socket.sent == []

    p.writable.clear()  # the peer stopped reading: the ASGI path waits for it, in order
    socket.stall()
    assert conn.offer("two") and conn.offer("three")
    assert not conn.flushed
    p.writable.set()
    assert conn.offer("four")  # a writer is still draining: this one queues behind it
    socket.resume()
    for _ in range(10):
        await asyncio.sleep(0)
    assert socket.sent == ["two", "three", "four"] and conn.flushed
    assert len(p.transport.written) == 1

    assert conn.offer("five")
    assert _parse(p.transport.written[-1]).data == b"five"


@pytest.mark.parametrize(
    "change",
    [
        {"close_sent": True},
        {"disconnected": True},
        {"state": State.CLOSING},
        {"extensions": ["permessage-deflate"]},
    ],
)
def test_no_straight_write_once_closing_or_compressed(change: dict[str, Any]) -> None:
    p = _protocol()
    for name, value in change.items():
        target = p.conn if name in ("state", "extensions") else p
        setattr(target, name, value)
    assert not RawFrames(p).write(b"frame")
    assert p.transport.written == []


def _frames(data: bytes) -> list[bytes]:
    reader = StreamReader()
    reader.feed_data(data)
    out = []
    while reader.buffer:
        parser = Frame.parse(reader.read_exact, mask=False)
        try:
            next(parser)
        except StopIteration as done:
            out.append(done.value.data)
    return out


def test_corked_frames_go_out_in_one_write_in_order() -> None:
    p = _protocol()
    socket = FakeSocket()
    conn = Connection("c", person("c"), 10, socket, RawFrames(p))
    with conn.corked():
        assert conn.offer("ack") and conn.offer("note.added")
        assert p.transport.written == []
    assert len(p.transport.written) == 1
    assert _frames(p.transport.written[0]) == [b"ack", b"note.added"]
    assert conn.offer("later")
    assert len(p.transport.written) == 2 and socket.sent == []


async def test_corked_frames_take_the_asgi_path_if_the_socket_falls_behind_meanwhile() -> None:
    p = _protocol()
    socket = FakeSocket()
    conn = Connection("c", person("c"), 10, socket, RawFrames(p))
    with conn.corked():
        conn.offer("ack")
        conn.offer("note.added")
        p.writable.clear()
    assert p.transport.written == [] and socket.sent == ["ack", "note.added"]


class CountingTransport(FakeTransport):
    """Also records how many turns of the loop had passed at each write."""

    def __init__(self, turns: list[int]) -> None:
        super().__init__()
        self.turns = turns
        self.at: list[int] = []

    def write(self, data: bytes) -> None:
        self.at.append(self.turns[0])
        super().write(bytes(data))


async def _ticking(turns: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        turns[0] += 1
        await asyncio.sleep(0)


async def test_a_large_frame_goes_out_in_slices_with_later_frames_behind_it() -> None:
    p = _protocol()
    turns = [0]
    p.transport = CountingTransport(turns)
    socket = FakeSocket()
    conn = Connection("c", person("c"), 10, socket, RawFrames(p))
    stop = asyncio.Event()
    ticker = asyncio.create_task(_ticking(turns, stop))
    big = "é" + "x" * (LARGE_FRAME * 3)
    assert conn.offer(big)
    assert conn.offer("after")  # must not land in the middle of the big frame's bytes
    for _ in range(200):
        await asyncio.sleep(0)
        if conn.flushed:
            break
    stop.set()
    await ticker
    assert conn.flushed
    pieces = p.transport.written
    assert len(pieces) == -(-len(text_frame(big)) // SLICE_BYTES) >= 12
    assert all(len(piece) <= SLICE_BYTES for piece in pieces)
    # Other work ran between slices: the loop was never held for the whole frame.
    assert len(set(p.transport.at)) == len(pieces)
    assert _frames(b"".join(pieces)) == [big.encode()]
    assert socket.sent == ["after"]  # the frame behind it, in order, by the writer


async def test_a_sliced_frame_waits_for_the_socket_and_a_close_half_way_ends_the_connection() -> (
    None
):
    p = _protocol()
    socket = FakeSocket()
    conn = Connection("c", person("c"), 10, socket, RawFrames(p))
    assert conn.offer("x" * (LARGE_FRAME + 1))
    await asyncio.sleep(0)
    p.writable.clear()  # the peer stopped reading after the first slice
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(p.transport.written) == 1 and not conn.flushed
    p.disconnected = True
    p.writable.set()
    for _ in range(5):
        await asyncio.sleep(0)
    assert conn.flushed and not conn.offer("more")
    assert len(p.transport.written) == 1


def test_a_small_frame_is_not_sliced() -> None:
    p = _protocol()
    conn = Connection("c", person("c"), 10, FakeSocket(), RawFrames(p))
    assert conn.offer("x" * LARGE_FRAME)
    assert len(p.transport.written) == 1 and conn.flushed
