"""`tablee simulate`: replay a CSV of texts into a live server as a crowd of participants.

The load and demo driver. It speaks protocol v1 exactly as browsers do, over the HTTP API and
real WebSockets, and measures what people at an event would feel: how long a post waits for
its ``ack``, how long a note takes to reach everyone else subscribed to its room (the other
participants and the facilitator), whether any room diff was lost or reordered, and how long
the theme worker takes to cover every note. All clients live in this one process, so a single
monotonic clock times both ends of every delivery.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import itertools
import json
import math
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Subprotocol

from server.protocol import (
    NOTE_MAX_CHARS,
    ROOM_DIFF_TYPES,
    SERVER_TYPES,
    SUBPROTOCOL,
    TOKEN_SUBPROTOCOL_PREFIX,
    VERSION,
    encode,
)

DEFAULT_ROOMS = 8
JOIN_CONCURRENCY = 16  # parallel joins: enough to fill an event fast without a connect storm
MAX_IN_FLIGHT = 256  # posts awaiting their ack; beyond that the replay waits (backpressure)
REPLY_TIMEOUT = 30.0
SETTLE_TIMEOUT = 10.0  # after the last ack, how long late deliveries may still arrive
RECONNECT_ATTEMPTS = 5
# A client resends an unacknowledged note, with the same id, for as long as its person would
# wait; a note still unacknowledged after this counts as an error.
RETRY_WINDOW = 60.0
# The server reads at most 64 KiB per frame, but what it sends can be far bigger: a themes
# snapshot or a room's whole wall grows with the event.
MAX_INCOMING_FRAME = 16 * 2**20
# Worth sending again: the server never stores a note id twice.
RETRYABLE = frozenset({"disconnected", "timeout", "rate_limited", "internal"})


class SimulateError(Exception):
    """The simulation cannot start or go on; the message says why, for a person to read."""


@dataclass(frozen=True, slots=True)
class SimulateOptions:
    url: str
    texts: Sequence[str]
    participants: int = 40
    rooms: int | None = None  # None: 8 for a new event, every room of an existing one
    rate: float = 5.0  # notes per second over all participants; 0 posts as fast as acks come
    join_code: str | None = None  # with secret: use this event instead of creating one
    secret: str | None = None
    themes_timeout: float = 120.0
    progress: Callable[[str], None] | None = None
    # More servers of the same deployment: sockets are spread over all of them in turn.
    also_urls: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class Percentiles:
    p50: float
    p95: float
    p99: float


@dataclass(slots=True)
class SimulateReport:
    join_code: str
    participants: int
    rooms: int
    sent: int
    acked: int
    errors: dict[str, int]
    ack_ms: Percentiles | None
    delivery_ms: Percentiles | None
    deliveries: int
    missing_deliveries: int
    out_of_order: int
    duplicates: int
    retries: int
    reconnects: int
    room_resets: int
    disconnects: dict[str, int]
    post_seconds: float | None  # first post to last ack
    themes_seconds: float | None  # last ack to the first snapshot covering every acked note
    themes_seconds_from_first_post: float | None
    themes_covered: int  # acked notes present in the latest snapshot
    n_themes: int
    labels: list[str]
    theme_worker: bool = True  # False when the server said it runs none
    protocol_mismatches: list[str] = field(default_factory=list)
    interrupted: bool = False

    @property
    def complete(self) -> bool:
        return (
            not self.interrupted
            and self.acked == self.sent
            and self.missing_deliveries == 0
            and self.out_of_order == 0
            and (self.themes_seconds is not None or not self.theme_worker)
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def load_texts(
    path: Path,
    text_column: str,
    *,
    filter_column: str | None = None,
    filter_value: str | None = None,
    limit: int | None = None,
) -> list[str]:
    """The texts of a CSV file in file order, trimmed and cut to what a note may hold."""
    texts: list[str] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            for wanted in (text_column, filter_column):
                if wanted is not None and wanted not in columns:
                    raise SimulateError(
                        f"{path}: no column {wanted!r}; the columns are {', '.join(columns)}"
                    )
            for row in reader:
                if limit is not None and len(texts) >= limit:
                    break
                if filter_column is not None and (row[filter_column] or "").strip() != filter_value:
                    continue
                text = clip(row[text_column] or "")
                if text:
                    texts.append(text)
    except OSError as exc:
        raise SimulateError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise SimulateError(f"{path}: not a readable UTF-8 CSV file: {exc}") from None
    return texts


def clip(text: str) -> str:
    """Trim as the server does, then cut to the longest note it accepts."""
    return text.strip()[:NOTE_MAX_CHARS].strip()


def percentiles(samples: Sequence[float]) -> Percentiles | None:
    if not samples:
        return None
    ordered = sorted(samples)

    def at(q: float) -> float:
        pos = q * (len(ordered) - 1)
        low = math.floor(pos)
        high = min(low + 1, len(ordered) - 1)
        return round(ordered[low] + (ordered[high] - ordered[low]) * (pos - low), 2)

    return Percentiles(at(0.50), at(0.95), at(0.99))


def themed_ids(snapshot: dict[str, Any]) -> set[str]:
    """Every note id a themes snapshot accounts for, in a theme or left unthemed."""
    ids = {_norm_id(i) for theme in snapshot.get("themes", []) for i in theme.get("note_ids", [])}
    for item in snapshot.get("unthemed", []):
        ids.add(_norm_id(item["id"] if isinstance(item, dict) else item))
    return ids


def _norm_id(value: object) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return str(value)


class _Tally:
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
        self.themes_received = 0.0
        self.theme_worker = True
        self.themes_changed = asyncio.Event()
        self.delivery_progress = asyncio.Event()

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
        note_id = _norm_id(note_id)
        if note_id not in self.sent_at:
            return
        if peer == self.author[note_id]:
            self.echoed.add(note_id)
        elif peer in self.expected[note_id] and peer not in self.delivered[note_id]:
            self.delivered[note_id].add(peer)
            self.delivery_ms.append((now - self.sent_at[note_id]) * 1000)
            self.delivery_progress.set()

    def on_themes(self, snapshot: dict[str, Any], now: float) -> None:
        self.themes = snapshot
        self.themes_received = now
        self.themes_changed.set()

    def undelivered(self) -> int:
        return sum(len(self.expected[i] - self.delivered[i]) for i in self.acked)


@dataclass(slots=True)
class _Cursor:
    epoch: str
    seq: int


class _ConnectionLost(Exception):
    pass


class _Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class _Peer:
    """One simulated person: a token, the rooms it follows, and its (re)connected socket."""

    def __init__(
        self, sim: Simulation, index: int, token: str, rooms: list[str], watch: bool = False
    ) -> None:
        self.index = index
        self.rooms = rooms
        self._sim = sim
        self._tally = sim.tally
        self._token = token
        self._watch = watch
        self._cursors: dict[str, _Cursor] = {}
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._refs = itertools.count(1)
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._reconnecting: asyncio.Task[None] | None = None
        self._rejoins: set[asyncio.Task[None]] = set()
        self._closing = False
        self.ready = asyncio.Event()
        self.gone = False  # gave up reconnecting

    async def open(self) -> None:
        """Connect, read the hello, join (or catch up on) every room, watch themes if asked."""
        ws = await self._sim.open_socket(self._token)
        try:
            hello = json.loads(await asyncio.wait_for(ws.recv(), REPLY_TIMEOUT))
        except (TimeoutError, ConnectionClosed, ValueError) as exc:
            await ws.close()
            raise _ConnectionLost(f"no hello frame: {exc!r}") from None
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
                ack = await self.request("themes.watch", {})
                # The server says whether a theme worker runs; without one, waiting is pointless.
                self._tally.theme_worker = ack.get("worker") is not False
        except BaseException:
            await ws.close()
            raise
        self.ready.set()

    async def request(self, type_: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send one request and wait for the ack or error that echoes its ref."""
        if self._ws is None:
            raise _ConnectionLost("not connected")
        ref = f"r{next(self._refs)}"
        reply: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[ref] = reply
        try:
            await self._ws.send(encode(type_, payload, ref=ref))
            frame = await asyncio.wait_for(reply, REPLY_TIMEOUT)
        except ConnectionClosed:
            raise _ConnectionLost(type_) from None
        finally:
            self._pending.pop(ref, None)
        body: dict[str, Any] = frame.get("payload") or {}
        if frame.get("type") == "error":
            raise _Refused(str(body.get("code")), str(body.get("message")))
        return body

    async def request_when_up(self, type_: str, payload: dict[str, Any]) -> dict[str, Any]:
        if not self.ready.is_set():
            try:
                await asyncio.wait_for(self.ready.wait(), REPLY_TIMEOUT)
            except TimeoutError:
                raise _ConnectionLost("still reconnecting") from None
        if self.gone:
            raise _ConnectionLost("gave up reconnecting")
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
                    reply.set_exception(_ConnectionLost("closed"))
            # Only a socket that was fully up reconnects here; one lost while (re)opening is
            # retried by whoever was opening it.
            if not self._closing and self.ready.is_set():
                self._tally.disconnects[_close_cause(ws)] += 1
                self.ready.clear()
                self._reconnecting = asyncio.create_task(self._reconnect())

    async def _reconnect(self) -> None:
        self._tally.reconnects += 1
        for attempt in range(RECONNECT_ATTEMPTS):
            await asyncio.sleep(min(0.25 * 2**attempt, 5.0))
            try:
                await self.open()
                return
            except (SimulateError, _ConnectionLost, _Refused, TimeoutError, InvalidHandshake):
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
        self._cursors[room] = _Cursor(epoch, seq)
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
        with contextlib.suppress(_ConnectionLost, _Refused, TimeoutError):
            await self.request("room.join", {"room": room})

    def _on_joined(self, payload: dict[str, Any], now: float) -> None:
        room = payload["room"]["id"]
        if payload.get("recovered"):
            for missed in payload.get("missed") or []:
                self._on_diff(json.loads(missed) if isinstance(missed, str) else missed, now)
        else:
            for note in payload.get("notes") or []:
                self._tally.on_note(note["id"], self.index, now)
        self._cursors[room] = _Cursor(payload["epoch"], payload["seq"])


def _close_cause(ws: ClientConnection) -> str:
    if ws.close_code is None:
        return "no close frame"
    return f"{ws.close_code} {ws.close_reason}".strip()


class Simulation:
    """One run. Its tally outlives an interruption, so a partial report can still be made."""

    def __init__(self, options: SimulateOptions) -> None:
        if not options.url.startswith(("http://", "https://")):
            raise SimulateError(f"--url must start with http:// or https://, not {options.url!r}")
        if options.participants < 1 or (options.rooms is not None and options.rooms < 1):
            raise SimulateError("--participants and --rooms must be at least 1")
        self.options = options
        self.tally = _Tally()
        self.join_code = options.join_code or ""
        self._base = options.url.rstrip("/")
        bases = [self._base, *(u.rstrip("/") for u in options.also_urls)]
        self._ws_urls = ["ws" + b.removeprefix("http") + "/ws" for b in bases]
        self._ws_url = self._ws_urls[0]
        self._sockets_opened = 0
        self._rooms: list[str] = []
        self._facilitator: _Peer | None = None
        self._participants: list[_Peer] = []
        self._audience: dict[str, frozenset[int]] = {}  # room -> peers that should see its notes
        self._themes_at: float | None = None

    async def run(self) -> SimulateReport:
        try:
            async with httpx.AsyncClient(base_url=self._base, timeout=REPLY_TIMEOUT) as http:
                token = await self._open_event(http)
                self._facilitator = _Peer(self, 0, token, list(self._rooms), watch=True)
                await self._open_peer(self._facilitator)
                await self._join_participants(http)
            self._say(f"posting {len(self.options.texts)} notes")
            await self._replay()
            self._say(
                f"{len(self.tally.acked)} notes acknowledged; waiting for deliveries and themes"
            )
            await asyncio.gather(self._settle_deliveries(), self._wait_for_themes())
            return self.report()
        finally:
            peers = [p for p in [self._facilitator, *self._participants] if p is not None]
            await asyncio.gather(*(p.close() for p in peers), return_exceptions=True)

    async def open_socket(self, token: str) -> ClientConnection:
        # No Origin header: like any script or app, and unlike a page of another site.
        self._ws_url = self._ws_urls[self._sockets_opened % len(self._ws_urls)]
        self._sockets_opened += 1
        try:
            ws = await connect(
                self._ws_url,
                subprotocols=[
                    Subprotocol(SUBPROTOCOL),
                    Subprotocol(TOKEN_SUBPROTOCOL_PREFIX + token),
                ],
                max_size=MAX_INCOMING_FRAME,
            )
        except InvalidStatus as exc:
            raise SimulateError(
                f"{self._ws_url} refused the WebSocket with HTTP {exc.response.status_code}"
            ) from None
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            raise SimulateError(f"cannot open a WebSocket to {self._ws_url}: {exc}") from None
        if ws.subprotocol != SUBPROTOCOL:
            self.tally.mismatches.add(f"handshake answered subprotocol {ws.subprotocol!r}")
        return ws

    def report(self, interrupted: bool = False) -> SimulateReport:
        t = self.tally
        themes = t.themes or {}
        covered = len(t.acked & themed_ids(themes)) if themes else 0
        themes_at = self._themes_at
        mismatches = set(t.mismatches)
        if not interrupted and len(t.echoed & t.acked) < len(t.acked):
            missing = len(t.acked - t.echoed)
            mismatches.add(f"{missing} acked notes never came back to their author as note.added")
        return SimulateReport(
            join_code=self.join_code,
            participants=len(self._participants),
            rooms=len(self._rooms),
            sent=len(t.sent_at),
            acked=len(t.acked),
            errors=dict(t.errors),
            ack_ms=percentiles(t.ack_ms),
            delivery_ms=percentiles(t.delivery_ms),
            deliveries=len(t.delivery_ms),
            missing_deliveries=t.undelivered(),
            out_of_order=t.out_of_order,
            duplicates=t.duplicates,
            retries=t.retries,
            reconnects=t.reconnects,
            room_resets=t.resets,
            disconnects=dict(t.disconnects),
            post_seconds=_span(t.first_post, t.last_ack),
            themes_seconds=_span(t.last_ack, themes_at),
            themes_seconds_from_first_post=_span(t.first_post, themes_at),
            themes_covered=covered,
            n_themes=len(themes.get("themes", [])),
            labels=[str(theme.get("label", "")) for theme in themes.get("themes", [])],
            theme_worker=t.theme_worker,
            protocol_mismatches=sorted(mismatches),
            interrupted=interrupted,
        )

    async def _open_event(self, http: httpx.AsyncClient) -> str:
        """Create the event, or take over an existing one as co-facilitator; its token."""
        pseudonym = "Simulation host"
        if self.options.join_code is not None:
            body = await self._call(
                http,
                f"/api/events/{self.options.join_code}/facilitate",
                {"secret": self.options.secret, "pseudonym": pseudonym},
            )
            rooms = body["rooms"][: self.options.rooms]
        else:
            n_rooms = self.options.rooms or DEFAULT_ROOMS
            capacity = max(8, math.ceil(self.options.participants / n_rooms))
            title = f"Simulation {time.strftime('%Y-%m-%d %H:%M')}"
            body = await self._call(
                http,
                "/api/events",
                {"title": title, "rooms": n_rooms, "capacity": capacity, "pseudonym": pseudonym},
            )
            rooms = body["rooms"]
        self.join_code = body["event"]["join_code"]
        self._rooms = [room["id"] for room in rooms]
        if not self._rooms:
            raise SimulateError(f"event {self.join_code} has no rooms")
        self._say(f"event {self.join_code}: {len(self._rooms)} rooms")
        return str(body["token"])

    async def _join_participants(self, http: httpx.AsyncClient) -> None:
        gate = asyncio.Semaphore(JOIN_CONCURRENCY)

        async def join(i: int) -> None:
            room = self._rooms[i % len(self._rooms)]
            async with gate:
                body = await self._call(
                    http,
                    f"/api/events/{self.join_code}/join",
                    {"pseudonym": f"Sim {i + 1:03d}", "room_id": room},
                )
                if body["participant"].get("room_id") != room:
                    self.tally.mismatches.add("join placed a participant in another room")
                peer = _Peer(self, i + 1, str(body["token"]), [room])
                self._participants.append(peer)  # listed before it opens, so it gets closed
                await self._open_peer(peer)

        try:
            async with asyncio.TaskGroup() as joins:
                for i in range(self.options.participants):
                    joins.create_task(join(i))
        except* SimulateError as failed:
            raise failed.exceptions[0] from None  # the first reason is the one to read
        self._participants.sort(key=lambda peer: peer.index)
        for room in self._rooms:
            members = {p.index for p in self._participants if p.rooms[0] == room}
            self._audience[room] = frozenset(members | {0})  # 0: the facilitator
        self._say(f"{len(self._participants)} participants connected")

    async def _open_peer(self, peer: _Peer) -> None:
        try:
            await peer.open()
        except _Refused as exc:
            raise SimulateError(f"the server refused to let a simulated client in: {exc}") from None
        except _ConnectionLost as exc:
            raise SimulateError(f"a WebSocket closed while joining its rooms ({exc})") from None
        except TimeoutError:
            raise SimulateError(f"no answer to room.join within {REPLY_TIMEOUT:.0f} s") from None

    async def _call(self, http: httpx.AsyncClient, path: str, body: dict[str, Any]) -> Any:
        try:
            response = await http.post(path, json=body)
        except httpx.TransportError as exc:
            raise SimulateError(
                f"cannot reach the Tablée server at {self._base} ({exc!r}); "
                "is `tablee serve` running?"
            ) from None
        try:
            answer = response.json()
        except ValueError:
            raise SimulateError(
                f"POST {path} answered HTTP {response.status_code} without JSON: "
                "is this a Tablée server?"
            ) from None
        if response.is_error:
            error = answer.get("error", {}) if isinstance(answer, dict) else {}
            raise SimulateError(
                f"POST {path} failed with HTTP {response.status_code} "
                f"{error.get('code', '?')}: {error.get('message', answer)}"
            )
        return answer

    async def _replay(self) -> None:
        """Post the texts in order, round-robin over participants, at the requested rate."""
        in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        rate = self.options.rate
        start = time.monotonic()
        async with asyncio.TaskGroup() as posts:
            for i, text in enumerate(self.options.texts):
                if rate > 0:
                    await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
                await in_flight.acquire()
                peer = self._participants[i % len(self._participants)]
                posts.create_task(self._post(peer, text, in_flight))

    async def _post(self, peer: _Peer, text: str, in_flight: asyncio.Semaphore) -> None:
        room = peer.rooms[0]
        note_id = str(uuid.uuid4())
        others = self._audience[room] - {peer.index}
        self.tally.on_sent(note_id, peer.index, others, time.monotonic())
        payload = {"room": room, "id": note_id, "text": text}
        give_up_at = time.monotonic() + RETRY_WINDOW
        try:
            for attempt in itertools.count():
                try:
                    await peer.request_when_up("note.post", payload)
                except _Refused as exc:
                    code = exc.code
                except _ConnectionLost:
                    code = "disconnected"
                except TimeoutError:
                    code = "timeout"
                else:
                    self.tally.on_ack(note_id, time.monotonic())
                    return
                backoff = min(0.5 * 2**attempt, 5.0)
                if code not in RETRYABLE or time.monotonic() + backoff > give_up_at:
                    self.tally.errors[code] += 1
                    return
                self.tally.retries += 1
                await asyncio.sleep(backoff)
        finally:
            in_flight.release()

    async def _settle_deliveries(self) -> None:
        """Give deliveries still on their way a little time before calling them missing."""
        tally = self.tally
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while True:
            tally.delivery_progress.clear()
            remaining = deadline - time.monotonic()
            if not tally.undelivered() or remaining <= 0:
                return
            try:
                await asyncio.wait_for(tally.delivery_progress.wait(), remaining)
            except TimeoutError:
                return

    async def _wait_for_themes(self) -> None:
        """Note when a snapshot first accounts for every acknowledged note."""
        tally = self.tally
        if not tally.acked:
            return
        if not tally.theme_worker:
            self._say("the server runs no theme worker: not waiting for themes")
            return
        deadline = time.monotonic() + self.options.themes_timeout
        while True:
            tally.themes_changed.clear()
            if tally.themes is not None and tally.acked <= themed_ids(tally.themes):
                self._themes_at = max(tally.themes_received, tally.last_ack or 0.0)
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                await asyncio.wait_for(tally.themes_changed.wait(), remaining)
            except TimeoutError:
                return

    def _say(self, message: str) -> None:
        if self.options.progress is not None:
            self.options.progress(message)


def _span(start: float | None, end: float | None) -> float | None:
    if start is None or end is None:
        return None
    return round(max(0.0, end - start), 3)


async def simulate(options: SimulateOptions) -> SimulateReport:
    return await Simulation(options).run()


def format_report(report: SimulateReport) -> str:
    def ms(p: Percentiles | None) -> str:
        return (
            "no samples"
            if p is None
            else f"p50 {p.p50:.1f} ms  p95 {p.p95:.1f} ms  p99 {p.p99:.1f} ms"
        )

    errors = ", ".join(f"{code} {n}" for code, n in sorted(report.errors.items())) or "no errors"
    lines = [
        f"Tablée simulation, event {report.join_code}"
        + (" (interrupted: partial figures)" if report.interrupted else ""),
        f"  participants  {report.participants} in {report.rooms} rooms",
        f"  notes         {report.acked}/{report.sent} acknowledged; {errors}"
        + (f"; {report.retries} retries" if report.retries else ""),
    ]
    if report.post_seconds:
        lines.append(
            f"  posting       {report.post_seconds:.1f} s "
            f"({report.acked / report.post_seconds:.1f} notes/s achieved)"
        )
    lines += [
        f"  post → ack    {ms(report.ack_ms)}",
        f"  delivery      {ms(report.delivery_ms)}",
        f"                {report.deliveries} deliveries, {report.missing_deliveries} missing, "
        f"{report.out_of_order} out of order, {report.duplicates} duplicates, "
        f"{report.reconnects} reconnects, {report.room_resets} room resets",
    ]
    if report.disconnects:
        causes = ", ".join(f"{n}× {cause}" for cause, n in report.disconnects.items())
        lines.append(f"  closed by     {causes}")
    if not report.theme_worker:
        lines.append("  themes        none: the server runs no theme worker")
    elif report.themes_seconds is not None:
        lines.append(
            f"  themes        cover all notes {report.themes_seconds:.1f} s after the last ack "
            f"({report.themes_seconds_from_first_post:.1f} s after the first post)"
        )
    else:
        lines.append(
            f"  themes        did not cover every note ({report.themes_covered}/{report.acked})"
        )
    if report.labels:
        lines.append(f"                {report.n_themes} themes: " + "; ".join(report.labels))
    lines += [f"  mismatch      {m}" for m in report.protocol_mismatches]
    return "\n".join(lines)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="replay a CSV of texts into a running server as simulated participants",
        description="Replay the texts of a CSV file into a running Tablée server over the real "
        "protocol, as many participants in several rooms, and report latencies and time to themes.",
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the server's base URL")
    parser.add_argument(
        "--also-url",
        action="append",
        default=[],
        metavar="URL",
        help="another server of the same deployment; sockets are spread over all (repeatable)",
    )
    parser.add_argument("--csv", type=Path, required=True, metavar="FILE")
    parser.add_argument("--text-column", default="text", help="column holding the texts")
    parser.add_argument("--filter-column", help="keep only rows where this column ...")
    parser.add_argument("--filter-value", help="... holds this value (e.g. moderated = 1)")
    parser.add_argument("--participants", type=int, default=40)
    parser.add_argument("--rooms", type=int, help=f"default {DEFAULT_ROOMS} (a new event)")
    parser.add_argument("--rate", type=float, default=5.0, help="notes/s overall; 0: no limit")
    parser.add_argument("--limit", type=int, help="post at most this many texts")
    parser.add_argument("--join-code", help="use this event instead of creating one ...")
    parser.add_argument("--secret", help="... with its facilitator secret")
    parser.add_argument("--themes-timeout", type=float, default=120.0, metavar="SECONDS")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    def fail(message: str, status: int) -> int:
        print(f"tablee simulate: {message}", file=sys.stderr)
        return status

    if (args.filter_column is None) != (args.filter_value is None):
        return fail("--filter-column and --filter-value go together", 2)
    if (args.join_code is None) != (args.secret is None):
        return fail("--join-code and --secret go together", 2)
    try:
        texts = load_texts(
            args.csv,
            args.text_column,
            filter_column=args.filter_column,
            filter_value=args.filter_value,
            limit=args.limit,
        )
        simulation = Simulation(
            SimulateOptions(
                url=args.url,
                texts=texts,
                participants=args.participants,
                rooms=args.rooms,
                rate=args.rate,
                join_code=args.join_code,
                secret=args.secret,
                themes_timeout=args.themes_timeout,
                progress=lambda message: print(message, file=sys.stderr),
                also_urls=args.also_url,
            )
        )
    except SimulateError as exc:
        return fail(str(exc), 2)
    if not texts:
        return fail(f"{args.csv}: no texts to post", 2)
    try:
        report = asyncio.run(simulation.run())
    except KeyboardInterrupt:
        report = simulation.report(interrupted=True)
    except SimulateError as exc:
        return fail(str(exc), 1)
    print(json.dumps(report.to_json(), ensure_ascii=False) if args.json else format_report(report))
    if report.interrupted:
        return 130
    return 0 if report.complete else 1
