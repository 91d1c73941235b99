"""The lean Redis connection: commands in RESP, replies matched in order or pushed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from server.resp import RespConnection, RespError, encode


class FakeTransport:
    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return self.closing

    def get_extra_info(self, name: str) -> Any:
        return None

    def get_write_buffer_size(self) -> int:
        return 0

    def abort(self) -> None:
        self.closing = True


def test_commands_are_arrays_of_bulk_strings_counted_in_bytes() -> None:
    assert encode("PUBLISH", "room:1", "é") == (
        b"*3\r\n$7\r\nPUBLISH\r\n$6\r\nroom:1\r\n$2\r\n\xc3\xa9\r\n"
    )
    assert encode() == b"*0\r\n"


async def test_replies_go_to_their_commands_in_order_and_dropped_ones_are_counted() -> None:
    conn = RespConnection()
    conn.connection_made(FakeTransport())  # type: ignore[arg-type]
    conn.send("PUBLISH", "a", "1")
    ping = asyncio.ensure_future(conn.call("PING"))
    await asyncio.sleep(0)  # the call is queued when its task first runs
    conn.send("PUBLISH", "a", "2")
    bad = asyncio.ensure_future(conn.call("NOPE"))
    await asyncio.sleep(0)
    assert conn.unanswered == 4
    conn.data_received(b":1\r\n+PO")  # a reply split across reads
    conn.data_received(b"NG\r\n-ERR no\r\n-ERR unknown command\r\n")
    assert await ping == "PONG"
    with pytest.raises(RespError, match="unknown command"):
        await bad
    assert conn.errors == 1 and conn.unanswered == 0


async def test_a_lost_connection_fails_what_waits_and_refuses_more() -> None:
    conn = RespConnection()
    conn.connection_made(FakeTransport())  # type: ignore[arg-type]
    waiting = asyncio.ensure_future(conn.call("PING"))
    await asyncio.sleep(0)
    conn.connection_lost(ConnectionResetError("reset"))
    with pytest.raises(RespError, match="lost"):
        await waiting
    assert conn.closed.done()
    with pytest.raises(RespError, match="not connected"):
        conn.send("PUBLISH", "a", "b")


async def test_a_subscribed_connection_pushes_every_reply() -> None:
    pushed: list[Any] = []
    conn = RespConnection()
    conn.connection_made(FakeTransport())  # type: ignore[arg-type]
    conn.take_pushes(pushed.append)
    conn.send("SUBSCRIBE", "room:1")
    assert conn.unanswered == 0
    conn.data_received(
        b"*3\r\n$9\r\nsubscribe\r\n$6\r\nroom:1\r\n:1\r\n"
        b"*3\r\n$7\r\nmessage\r\n$6\r\nroom:1\r\n$6\r\nh\xc3\xa9llo\r\n"
    )
    assert pushed == [["subscribe", "room:1", 1], ["message", "room:1", "héllo"]]
