"""`tablee simulate`: replay a CSV of texts into a live server as a crowd of participants.

The load and demo driver. It speaks protocol v1 exactly as browsers do, over the HTTP API and
real WebSockets, and measures what people at an event would feel: how long a post waits for
its ``ack``, how long a note takes to reach everyone else subscribed to its room (the other
participants and the facilitator), whether any room diff was lost or reordered, how long a
note takes to appear on the facilitator's theme board, and how long the theme worker takes
to cover every note. All clients live in this one process, so a single monotonic clock
times both ends of every delivery.

With `preload`, the first texts are posted first, as fast as the server takes them, and the
run waits for the themes to cover them before it measures the rest: the figures are those
of an event that already holds that many notes.
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHandshake, InvalidStatus
from websockets.typing import Subprotocol

from server.protocol import NOTE_MAX_CHARS, SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX
from server.simulate_client import (
    MAX_INCOMING_FRAME,
    REPLY_TIMEOUT,
    ConnectionLost,
    Peer,
    Refused,
    SimulateError,
    Tally,
    themed_ids,
)
from server.simulate_report import (
    Percentiles,
    Reclustering,
    SimulateReport,
    format_report,
    percentiles,
    span,
)

__all__ = [
    "Percentiles",
    "Reclustering",
    "SimulateError",
    "SimulateOptions",
    "SimulateReport",
    "Simulation",
    "format_report",
    "load_texts",
    "percentiles",
    "simulate",
    "themed_ids",
]

DEFAULT_ROOMS = 8
JOIN_CONCURRENCY = 16  # parallel joins: enough to fill an event fast without a connect storm
MAX_IN_FLIGHT = 256  # posts awaiting their ack; beyond that the replay waits (backpressure)
SETTLE_TIMEOUT = 10.0  # after the last ack, how long late deliveries may still arrive
# A client resends an unacknowledged note, with the same id, for as long as its person would
# wait; a note still unacknowledged after this counts as an error.
RETRY_WINDOW = 60.0
# Worth sending again: the server never stores a note id twice.
RETRYABLE = frozenset({"disconnected", "timeout", "rate_limited", "internal"})


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
    # The first `preload` texts fill the event before anything is measured.
    preload: int = 0
    # Fast, but under the server's per-connection rate limit with a few dozen participants.
    preload_rate: float = 200.0


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


class Simulation:
    """One run. Its tally outlives an interruption, so a partial report can still be made."""

    def __init__(self, options: SimulateOptions) -> None:
        if not options.url.startswith(("http://", "https://")):
            raise SimulateError(f"--url must start with http:// or https://, not {options.url!r}")
        if options.participants < 1 or (options.rooms is not None and options.rooms < 1):
            raise SimulateError("--participants and --rooms must be at least 1")
        if options.preload < 0 or options.preload_rate < 0:
            raise SimulateError("--preload and --preload-rate cannot be negative")
        self.options = options
        self.tally = Tally()
        self.join_code = options.join_code or ""
        self._base = options.url.rstrip("/")
        bases = [self._base, *(u.rstrip("/") for u in options.also_urls)]
        self._ws_urls = ["ws" + b.removeprefix("http") + "/ws" for b in bases]
        self._ws_url = self._ws_urls[0]
        self._sockets_opened = 0
        self._rooms: list[str] = []
        self._facilitator: Peer | None = None
        self._participants: list[Peer] = []
        self._audience: dict[str, frozenset[int]] = {}  # room -> peers that should see its notes
        self._themes_at: float | None = None
        self._preloaded = 0
        self._preload_seconds: float | None = None
        self._preload_errors: dict[str, int] = {}
        self._preload_disconnects: dict[str, int] = {}

    async def run(self) -> SimulateReport:
        try:
            async with httpx.AsyncClient(base_url=self._base, timeout=REPLY_TIMEOUT) as http:
                token = await self._open_event(http)
                self._facilitator = Peer(self, 0, token, list(self._rooms), watch=True)
                await self._open_peer(self._facilitator)
                await self._join_participants(http)
            texts = self.options.texts
            preload = min(self.options.preload, len(texts))
            if preload:
                await self._preload(texts[:preload])
            self._say(f"posting {len(texts) - preload} notes")
            await self._replay(texts[preload:], self.options.rate)
            self._say(
                f"{len(self.tally.acked)} notes acknowledged; waiting for deliveries and themes"
            )
            await asyncio.gather(self._settle_deliveries(), self._wait_for_themes())
            return self.report()
        finally:
            peers = [p for p in [self._facilitator, *self._participants] if p is not None]
            self._say(f"closing {len(peers)} connections")
            await asyncio.gather(*(p.close() for p in peers), return_exceptions=True)

    async def _preload(self, texts: Sequence[str]) -> None:
        """Fill the event, wait until its themes hold every note, then start a fresh tally."""
        self._say(f"preloading {len(texts)} notes")
        await self._replay(texts[:-1], self.options.preload_rate)
        tally = self.tally
        self._say(f"{len(tally.acked)} notes preloaded; waiting for themes to cover them")
        await asyncio.gather(self._settle_deliveries(), self._wait_for_themes())
        self._preload_seconds = span(tally.first_post, self._themes_at)
        if self._themes_at is None:
            self._say("themes did not cover the preloaded notes in time; measuring anyway")
        await self._drain_placements(texts[-1])
        self._preloaded = len(tally.acked)
        self._preload_errors = {f"preload {code}": n for code, n in tally.errors.items()}
        self._preload_disconnects = {f"preload: {c}": n for c, n in tally.disconnects.items()}
        self._themes_at = None
        self.tally = tally.carry_over()

    async def _drain_placements(self, text: str) -> None:
        """Wait until live placement has caught up with the preload.

        Filled faster than the server places notes, the event keeps a backlog that measured
        notes would queue behind. Placements go in order, so once one more note posted now
        is placed, the backlog is gone.
        """
        tally = self.tally
        if not tally.theme_worker:
            return
        before = set(tally.acked)
        started = time.monotonic()
        await self._replay([text], 0)
        probe = tally.acked - before
        deadline = started + self.options.themes_timeout
        while probe and not probe <= tally.assigned:
            tally.assignments.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(tally.assignments.wait(), remaining)
        if probe and probe <= tally.assigned:
            self._say(f"live placement caught up {time.monotonic() - started:.1f} s later")
        else:
            self._say("live placement did not catch up in time; measuring anyway")

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
        covered = len(t.acked & t.themes_ids) if themes else 0
        placed = t.acked & t.board_ms.keys()
        origin = t.first_post if t.first_post is not None else time.monotonic()
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
            errors={**self._preload_errors, **t.errors},
            ack_ms=percentiles(t.ack_ms),
            delivery_ms=percentiles(t.delivery_ms),
            deliveries=len(t.delivery_ms),
            missing_deliveries=t.undelivered(),
            out_of_order=t.out_of_order,
            duplicates=t.duplicates,
            retries=t.retries,
            reconnects=t.reconnects,
            room_resets=t.resets,
            disconnects={**self._preload_disconnects, **t.disconnects},
            post_seconds=span(t.first_post, t.last_ack),
            themes_seconds=span(t.last_ack, themes_at),
            themes_seconds_from_first_post=span(t.first_post, themes_at),
            themes_covered=covered,
            n_themes=len(themes.get("themes", [])),
            labels=[str(theme.get("label", "")) for theme in themes.get("themes", [])],
            theme_worker=t.theme_worker,
            board_ms=percentiles([t.board_ms[i] for i in placed]),
            board_placed=len(placed),
            board_unplaced=len(t.acked) - len(placed),
            board_by_snapshot=t.board_by_snapshot,
            reclusterings=[
                Reclustering(version, notes, seconds, round(at - origin, 3))
                for version, notes, seconds, at in t.snapshots
            ],
            preloaded=self._preloaded,
            preload_seconds=self._preload_seconds,
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
                peer = Peer(self, i + 1, str(body["token"]), [room])
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

    async def _open_peer(self, peer: Peer) -> None:
        try:
            await peer.open()
        except Refused as exc:
            raise SimulateError(f"the server refused to let a simulated client in: {exc}") from None
        except ConnectionLost as exc:
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

    async def _replay(self, texts: Sequence[str], rate: float) -> None:
        """Post the texts in order, round-robin over participants, at the given rate."""
        in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        start = time.monotonic()
        async with asyncio.TaskGroup() as posts:
            for i, text in enumerate(texts):
                if rate > 0:
                    await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
                await in_flight.acquire()
                peer = self._participants[i % len(self._participants)]
                posts.create_task(self._post(peer, text, in_flight))

    async def _post(self, peer: Peer, text: str, in_flight: asyncio.Semaphore) -> None:
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
                except Refused as exc:
                    code = exc.code
                except ConnectionLost:
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
            if tally.themes is not None and tally.acked <= tally.themes_ids:
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


async def simulate(options: SimulateOptions) -> SimulateReport:
    return await Simulation(options).run()


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="replay a CSV of texts into a running server as simulated participants",
        description="Replay the texts of a CSV file into a running Tablée server over the real "
        "protocol, as many participants in several rooms, and report latencies, the time each "
        "note takes to reach the facilitator's theme board, and the time to themes.",
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
    parser.add_argument(
        "--preload",
        type=int,
        default=0,
        metavar="N",
        help="post the first N texts before measuring, and wait for themes to cover them",
    )
    parser.add_argument(
        "--preload-rate", type=float, default=200.0, help="notes/s while preloading; 0: no limit"
    )
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
                preload=args.preload,
                preload_rate=args.preload_rate,
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
