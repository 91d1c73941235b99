"""The simulated people of `tablee simulate`: their sockets, and the tally they keep.

Each `Peer` speaks protocol v1 as a browser does: it joins its rooms, follows their sequence
numbers, reconnects and catches up after a drop, and reports every frame to the run's
`Tally`. The facilitator peer also watches themes, which times each note's way to the board.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any, Protocol

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from nlp import theme_diff
from server.protocol import ROOM_DIFF_TYPES, SERVER_TYPES, VERSION, encode

REPLY_TIMEOUT = 30.0
RECONNECT_ATTEMPTS = 5
# The server reads at most 64 KiB per frame, but what it sends can be far bigger: a themes
# snapshot or a room's whole wall grows with the event.
MAX_INCOMING_FRAME = 16 * 2**20


class SimulateError(Exception):
    """The simulation cannot start or go on; the message says why, for a person to read."""


def themed_ids(snapshot: dict[str, Any]) -> set[str]:
    """Every note id a themes snapshot accounts for, in a theme or left unthemed."""
    ids = {norm_id(i) for theme in snapshot.get("themes", []) for i in theme.get("note_ids", [])}
    for item in snapshot.get("unthemed", []):
        ids.add(norm_id(item["id"] if isinstance(item, dict) else item))
    return ids


def norm_id(value: object) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return str(value)


class Tally:
    """Every measurement of one run; updated by the sockets, read by the report."""

    def __init__(self) -> None:
        self.sent_at: dict[str, float] = {}
        self.author: dict[str, int] = {}
        self.expected: dict[str, frozenset[int]] = {}
        self.delivered: dict[str, set[int]] = {}
        self.echoed: set[str] = set()
        self.delivery_ms: list[float] = []
        self.ack_ms: list[float] = []
        self.acked: set[str] = set()
        self.errors: Counter[str] = Counter()
        self.out_of_order = 0
        self.duplicates = 0
        self.retries = 0
        self.reconnects = 0
        self.resets = 0
        self.disconnects: Counter[str] = Counter()  # unplanned closes, by close code and reason
        self.mismatches: set[str] = set()
        self.first_post: float | None = None
        self.last_ack: float | None = None
        self.themes: dict[str, Any] | None = None
        self.themes_ids: set[str] = set()  # every note the latest snapshot accounts for
        self.themes_received = 0.0
        self.theme_worker = True
        self.board_ms: dict[str, float] = {}  # note -> post to first sight on the board
        self.assigned: set[str] = set()  # notes a `themes.assigned` named
        self.board_by_snapshot = 0
        self.themes_resyncs = 0  # diffs that did not apply: a snapshot was asked for again
        # (version, notes, the worker's seconds, when it arrived) for every snapshot.
        self.snapshots: list[tuple[int, int, float | None, float]] = []
        self.themes_changed = asyncio.Event()
        self.assignments = asyncio.Event()
        self.delivery_progress = asyncio.Event()

    def carry_over(self) -> Tally:
        """A fresh tally for the next phase, knowing what this one knew of the themes."""
        fresh = Tally()
        fresh.themes = self.themes
        fresh.themes_ids = self.themes_ids
        fresh.themes_received = self.themes_received
        fresh.theme_worker = self.theme_worker
        fresh.snapshots = list(self.snapshots)
        fresh.mismatches = set(self.mismatches)  # a protocol fault matters whenever it came
        return fresh

    def on_sent(self, note_id: str, author: int, recipients: frozenset[int], now: float) -> None:
        self.sent_at[note_id] = now
        self.author[note_id] = author
        self.expected[note_id] = recipients
        self.delivered[note_id] = set()
        if self.first_post is None:
            self.first_post = now

    def on_ack(self, note_id: str, now: float) -> None:
        self.acked.add(note_id)
        self.ack_ms.append((now - self.sent_at[note_id]) * 1000)
        self.last_ack = now

    def on_note(self, note_id: str, peer: int, now: float) -> None:
        """A peer saw a note, live or in a snapshot; only our own notes count."""
        note_id = norm_id(note_id)
        if note_id not in self.sent_at:
            return
        if peer == self.author[note_id]:
            self.echoed.add(note_id)
        elif peer in self.expected[note_id] and peer not in self.delivered[note_id]:
            self.delivered[note_id].add(peer)
            self.delivery_ms.append((now - self.sent_at[note_id]) * 1000)
            self.delivery_progress.set()

    def on_assigned(self, note_id: str, now: float) -> None:
        """The facilitator's board placed a note live (in a theme or, for now, in none)."""
        note_id = norm_id(note_id)
        if note_id not in self.sent_at:
            return
        self.assigned.add(note_id)
        self.assignments.set()
        if note_id not in self.board_ms:
            self.board_ms[note_id] = (now - self.sent_at[note_id]) * 1000

    def on_themes(self, snapshot: dict[str, Any], now: float) -> None:
        self.themes = snapshot
        self.themes_ids = themed_ids(snapshot)
        self.themes_received = now
        seconds = snapshot.get("seconds")
        self.snapshots.append(
            (
                int(snapshot.get("version") or 0),
                int(snapshot.get("n_notes") or len(self.themes_ids)),
                float(seconds) if isinstance(seconds, int | float) else None,
                now,
            )
        )
        # A snapshot can show a note before its assignment arrives (or instead of it, when
        # live placement failed): the board shows it from then on.
        for note_id in (self.sent_at.keys() - self.board_ms.keys()) & self.themes_ids:
            self.board_ms[note_id] = (now - self.sent_at[note_id]) * 1000
            self.board_by_snapshot += 1
        self.themes_changed.set()

    def undelivered(self) -> int:
        return sum(len(self.expected[i] - self.delivered[i]) for i in self.acked)


class Host(Protocol):
    """What a peer needs of the run it belongs to."""

    @property
    def tally(self) -> Tally: ...

    async def open_socket(self, token: str) -> ClientConnection: ...


@dataclass(slots=True)
class Cursor:
    epoch: str
    seq: int


class ConnectionLost(Exception):
    pass


class Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class Peer:
    """One simulated person: a token, the rooms it follows, and its (re)connected socket."""

    def __init__(
        self, sim: Host, index: int, token: str, rooms: list[str], watch: bool = False
    ) -> None:
        self.index = index
        self.rooms = rooms
        self._sim = sim
        self._token = token
        self._watch = watch
        self._cursors: dict[str, Cursor] = {}
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._refs = itertools.count(1)
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._reconnecting: asyncio.Task[None] | None = None
        self._rejoins: set[asyncio.Task[None]] = set()
        self._closing = False
        self.ready = asyncio.Event()
        self.gone = False  # gave up reconnecting

    @property
    def _tally(self) -> Tally:
        # The run may start a fresh tally between phases; a peer always reports to the current one.
        return self._sim.tally

    async def open(self) -> None:
        """Connect, read the hello, join (or catch up on) every room, watch themes if asked."""
        ws = await self._sim.open_socket(self._token)
        try:
            hello = json.loads(await asyncio.wait_for(ws.recv(), REPLY_TIMEOUT))
        except (TimeoutError, ConnectionClosed, ValueError) as exc:
            await ws.close()
            raise ConnectionLost(f"no hello frame: {exc!r}") from None
        if hello.get("type") != "hello":
            self._tally.mismatches.add(
                f"a socket's first frame is {hello.get('type')!r}, not hello"
            )
        self._ws = ws
        self._reader = asyncio.create_task(self._read(ws))
        try:
            for room in self.rooms:
                payload: dict[str, Any] = {"room": room}
                cursor = self._cursors.get(room)
                if cursor is not None:
                    payload["since"] = {"seq": cursor.seq, "epoch": cursor.epoch}
                await self.request("room.join", payload)
            if self._watch:
                # As the web console does: one snapshot, then each update as a diff.
                ack = await self.request("themes.watch", {"diffs": True})
                # The server says whether a theme worker runs; without one, waiting is pointless.
                self._tally.theme_worker = ack.get("worker") is not False
        except BaseException:
            await ws.close()
            raise
        self.ready.set()

    async def request(self, type_: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send one request and wait for the ack or error that echoes its ref."""
        if self._ws is None:
            raise ConnectionLost("not connected")
        ref = f"r{next(self._refs)}"
        reply: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[ref] = reply
        try:
            await self._ws.send(encode(type_, payload, ref=ref))
            frame = await asyncio.wait_for(reply, REPLY_TIMEOUT)
        except ConnectionClosed:
            raise ConnectionLost(type_) from None
        finally:
            self._pending.pop(ref, None)
        body: dict[str, Any] = frame.get("payload") or {}
        if frame.get("type") == "error":
            raise Refused(str(body.get("code")), str(body.get("message")))
        return body

    async def request_when_up(self, type_: str, payload: dict[str, Any]) -> dict[str, Any]:
        if not self.ready.is_set():
            try:
                await asyncio.wait_for(self.ready.wait(), REPLY_TIMEOUT)
            except TimeoutError:
                raise ConnectionLost("still reconnecting") from None
        if self.gone:
            raise ConnectionLost("gave up reconnecting")
        return await self.request(type_, payload)

    async def close(self) -> None:
        self._closing = True
        if self._reconnecting is not None:
            self._reconnecting.cancel()
        for rejoin in list(self._rejoins):
            rejoin.cancel()
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                now = time.monotonic()
                try:
                    frame = json.loads(raw)
                    self._dispatch(frame, now)
                except (ValueError, KeyError, TypeError, AttributeError):
                    self._tally.mismatches.add(f"unreadable frame: {str(raw)[:80]}")
        except ConnectionClosed:
            pass
        finally:
            for reply in self._pending.values():
                if not reply.done():
                    reply.set_exception(ConnectionLost("closed"))
            # Only a socket that was fully up reconnects here; one lost while (re)opening is
            # retried by whoever was opening it.
            if not self._closing and self.ready.is_set():
                self._tally.disconnects[close_cause(ws)] += 1
                self.ready.clear()
                self._reconnecting = asyncio.create_task(self._reconnect())

    async def _reconnect(self) -> None:
        self._tally.reconnects += 1
        for attempt in range(RECONNECT_ATTEMPTS):
            await asyncio.sleep(min(0.25 * 2**attempt, 5.0))
            try:
                await self.open()
                return
            except (SimulateError, ConnectionLost, Refused, TimeoutError, InvalidHandshake):
                continue
        self.gone = True
        self.ready.set()  # wake the waiting posters so they give up

    def _dispatch(self, frame: dict[str, Any], now: float) -> None:
        type_ = frame.get("type")
        if frame.get("v") != VERSION:
            self._tally.mismatches.add(f"frame {type_!r} carries v={frame.get('v')!r}")
        payload = frame.get("payload") or {}
        if type_ in ROOM_DIFF_TYPES:
            self._on_diff(frame, now)
        elif type_ == "room.joined":
            self._on_joined(payload, now)
        elif type_ == "themes.snapshot":
            self._tally.on_themes(payload, now)
        elif type_ == "themes.diff":
            self._on_themes_diff(payload, now)
        elif type_ == "themes.assigned":
            self._tally.on_assigned(payload["note"], now)
        elif type_ == "room.reset":
            self._reset(str(frame.get("room") or payload.get("room")))
        elif type_ not in SERVER_TYPES:
            self._tally.mismatches.add(f"unknown frame type {type_!r}")
        ref = frame.get("ref")
        if ref is not None and ref in self._pending:
            reply = self._pending[ref]
            if not reply.done():
                reply.set_result(frame)
        elif type_ == "error":
            self._tally.errors[f"unsolicited {payload.get('code')}"] += 1

    def _on_themes_diff(self, diff: dict[str, Any], now: float) -> None:
        held = self._tally.themes
        try:
            if held is None:
                raise theme_diff.DiffMismatch("no snapshot yet")
            self._tally.on_themes(theme_diff.apply(held, diff), now)
        except theme_diff.DiffMismatch:
            # A version went by unseen: asking again brings the latest snapshot.
            self._tally.themes_resyncs += 1
            task = asyncio.create_task(self._rewatch())
            self._rejoins.add(task)
            task.add_done_callback(self._rejoins.discard)

    async def _rewatch(self) -> None:
        with contextlib.suppress(ConnectionLost, Refused, ConnectionClosed, TimeoutError):
            await self.request("themes.watch", {"diffs": True})

    def _on_diff(self, frame: dict[str, Any], now: float) -> None:
        room, seq, epoch = frame.get("room"), frame.get("seq"), frame.get("epoch")
        if not isinstance(room, str) or not isinstance(seq, int) or not isinstance(epoch, str):
            self._tally.mismatches.add(f"{frame.get('type')} without room, seq and epoch")
            return
        cursor = self._cursors.get(room)
        if cursor is not None and cursor.epoch == epoch:
            if seq <= cursor.seq:
                self._tally.duplicates += 1  # ignored, as a client must
                return
            if seq != cursor.seq + 1:
                self._tally.out_of_order += 1
        self._cursors[room] = Cursor(epoch, seq)
        if frame.get("type") == "note.added":
            self._tally.on_note(frame["payload"]["note"]["id"], self.index, now)

    def _reset(self, room: str) -> None:
        """The server lost diffs it can no longer replay: take a fresh snapshot of the room."""
        self._tally.resets += 1
        self._cursors.pop(room, None)  # diffs until the snapshot cannot be checked for gaps
        rejoin = asyncio.create_task(self._rejoin(room))
        self._rejoins.add(rejoin)
        rejoin.add_done_callback(self._rejoins.discard)

    async def _rejoin(self, room: str) -> None:
        # If this fails the socket is going down, and the reconnect joins again anyway.
        with contextlib.suppress(ConnectionLost, Refused, TimeoutError):
            await self.request("room.join", {"room": room})

    def _on_joined(self, payload: dict[str, Any], now: float) -> None:
        room = payload["room"]["id"]
        if payload.get("recovered"):
            for missed in payload.get("missed") or []:
                self._on_diff(json.loads(missed) if isinstance(missed, str) else missed, now)
        else:
            for note in payload.get("notes") or []:
                self._tally.on_note(note["id"], self.index, now)
        self._cursors[room] = Cursor(payload["epoch"], payload["seq"])


def close_cause(ws: ClientConnection) -> str:
    if ws.close_code is None:
        return "no close frame"
    return f"{ws.close_code} {ws.close_reason}".strip()
