"""The facilitator's board over the wire: a real `tablee serve` driven by `tablee simulate`.

    .venv/bin/python bench/board.py [--data ../shared/data] [--preload 5000] [--big 20000]

One server with the packaged MiniLM model and its theme worker in process, as deployed:

1. Note → board: an event is preloaded with 5,000 notes (and themed), then a steady stream
   is posted (10 notes/s for 30 s); for each note, the time from its post until the
   facilitator's board shows it (`themes.assigned`, or a snapshot holding it first).
2. Re-clustering: an event of 20,000 notes is written into the store before the server
   starts; its first re-clustering embeds them all (minutes, once). Then the same stream
   goes into fresh events, alternately while that large event is kept
   re-clustering (a facilitator posts into it every second, so it is never clean) and while
   nothing else runs. Room delivery p50/p99 of both, their ratio, and how long each full
   re-clustering of the large event took, as its snapshots say.

With `--production` the same runs use the production topology instead: the server on
PostgreSQL and Redis with `TABLEE_WORKER=external`, and one `tablee worker` process (at nice
10, as the in-process model's child runs) making the themes; its database is made next to
`TABLEE_TEST_POSTGRES_URL`'s, as the tests' are.

Texts are stackoverflow titles, shuffled with seed 0. Times depend on the machine and on
whatever else runs on it: compare within a run. `bench/themes.py` prints these figures in
its table.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server.migrate import upgrade_async  # noqa: E402
from server.protocol import SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX, encode  # noqa: E402
from server.simulate import (  # noqa: E402
    SimulateOptions,
    SimulateReport,
    format_report,
    simulate,
)
from server.simulate_client import MAX_INCOMING_FRAME  # noqa: E402
from tests.conftest import LiveServer, WorkerProcess, scratch_postgres  # noqa: E402

# Production timings, not the tests' shortened ones: the worker's debounce decides how often
# a busy event is re-clustered, which is what is being measured.
SERVER_ENV = {
    "TABLEE_WORKER": "inprocess",
    "TABLEE_EMBEDDING_MODEL": "",
    "TABLEE_THEMES_DEBOUNCE_SECONDS": "1",
    "TABLEE_THEMES_MAX_WAIT_SECONDS": "5",
    "TABLEE_HEARTBEAT_SECONDS": "15",
    "TABLEE_LOG_LEVEL": "info",
}
PRELOAD_RATE = 200.0  # notes/s while filling an event: 5/s per participant, under the limit
QUIET_SECONDS = 20.0  # how long the large event must publish nothing to count as idle


def texts(data: Path, seed: int = 0) -> list[str]:
    with (data / "stackoverflow.csv").open(newline="", encoding="utf-8") as handle:
        rows = [row["text"].strip()[:500] for row in csv.DictReader(handle)]
    rows = [row for row in rows if row]
    random.Random(seed).shuffle(rows)  # the file is sorted by label; real notes are not
    return rows


@dataclass(frozen=True)
class Topology:
    """Where the server keeps its data and who makes the themes."""

    env: dict[str, str] = field(default_factory=dict)
    database_url: str | None = None  # None: the server's own SQLite file
    worker: bool = False  # a `tablee worker` process next to the server

    @property
    def name(self) -> str:
        return "PostgreSQL + Redis, tablee worker" if self.worker else "one process, SQLite"


@contextmanager
def production(redis: str) -> Iterator[Topology]:
    """A fresh PostgreSQL database and Redis streams of this run's own, removed afterwards."""
    import redis as redis_sync

    name = f"tablee_board_{uuid.uuid4().hex[:8]}"
    streams = {
        "TABLEE_JOBS_STREAM": f"{name}:jobs",
        "TABLEE_PLACEMENT_STREAM": f"{name}:place",
    }
    with scratch_postgres("tablee_board") as url:
        try:
            yield Topology(
                env={
                    "TABLEE_DATABASE_URL": url,
                    "TABLEE_BROKER_URL": redis,
                    "TABLEE_WORKER": "external",
                    "TABLEE_SECRET_KEY": uuid.uuid4().hex,
                    **streams,
                },
                database_url=url,
                worker=True,
            )
        finally:
            client = redis_sync.Redis.from_url(redis)
            client.delete(*streams.values())
            client.close()


@contextmanager
def served(
    directory: Path, model: str = "", topology: Topology | None = None
) -> Iterator[LiveServer]:
    topology = topology or Topology()
    env = {**SERVER_ENV, "TABLEE_EMBEDDING_MODEL": model, **topology.env}
    worker = WorkerProcess(directory, "worker", env, nice=10) if topology.worker else None
    server = LiveServer(directory, env, "board")
    try:
        server.wait_ready(300, themes=True)
        if worker is not None:
            worker.wait_for("ready", 300)
        yield server
    finally:
        server.stop()
        if worker is not None:
            worker.stop()


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Snapshot:
    at: float  # monotonic, when it arrived
    version: int
    notes: int
    seconds: float | None


# The head and tail of a themes snapshot carry what is timed here; parsing the whole frame
# (megabytes at 20,000 notes) would stall this process's loop, which also times deliveries.
_FIELD = re.compile(rb'"(version|n_notes|seconds)":\s*([0-9.]+)')


class SnapshotLog:
    """The large event's snapshots as they arrived, and what they say about its runs."""

    snapshots: list[Snapshot]

    async def idle(self, quiet: float = QUIET_SECONDS, limit: float = 300.0) -> None:
        """Wait until no snapshot has come for `quiet` seconds: no re-clustering is running."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            last = self.snapshots[-1].at if self.snapshots else 0.0
            if time.monotonic() - last >= quiet:
                return
            await asyncio.sleep(1.0)

    async def until_notes(self, notes: int, limit: float) -> float | None:
        """When a snapshot of at least `notes` notes arrived; None if none within `limit` s."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            done = [s.at for s in self.snapshots if s.notes >= notes]
            if done:
                return done[0]
            await asyncio.sleep(1.0)
        return None

    def busy_share(self, start: float, end: float) -> float:
        """How much of [start, end] a re-clustering of this event was running."""
        busy = 0.0
        for snap in self.snapshots:
            if snap.seconds is None:
                continue
            busy += max(0.0, min(end, snap.at) - max(start, snap.at - snap.seconds))
        return busy / max(end - start, 1e-9)


@dataclass
class BoardWatch(SnapshotLog):
    """A facilitator of the large event: watches its themes and keeps it re-clustering."""

    url: str
    token: str
    room: str
    snapshots: list[Snapshot] = field(default_factory=list)
    on_snapshot: Callable[[Snapshot], None] | None = None
    _ws: ClientConnection | None = None
    _reader: asyncio.Task[None] | None = None
    _posted: int = 0

    async def open(self) -> None:
        self._ws = await connect(
            "ws" + self.url.removeprefix("http") + "/ws",
            subprotocols=[
                Subprotocol(SUBPROTOCOL),
                Subprotocol(TOKEN_SUBPROTOCOL_PREFIX + self.token),
            ],
            max_size=MAX_INCOMING_FRAME,
        )
        self._reader = asyncio.create_task(self._read(self._ws))
        # As the web console does: one snapshot, then each update as a diff.
        await self._ws.send(encode("themes.watch", {"diffs": True}, ref="watch"))

    async def _read(self, ws: ClientConnection) -> None:
        while True:
            try:
                data = await ws.recv(decode=False)  # bytes: no decoding megabytes of text
            except ConnectionClosed:
                return
            if b'"themes.diff"' in data[:64]:
                diff = json.loads(data)["payload"]  # kilobytes
                self._arrived(diff["version"], diff["n_notes"], diff.get("seconds"))
                continue
            if b'"themes.snapshot"' not in data[:64]:
                continue
            # `seconds` is the payload's last field; lineage entries near the end also carry a
            # `version`, so that and `n_notes` are read from the head only.
            head = {m.group(1): float(m.group(2)) for m in _FIELD.finditer(data[:200])}
            tail = {m.group(1): float(m.group(2)) for m in _FIELD.finditer(data[-200:])}
            values = {"version": head.get(b"version", 0.0), "n_notes": head.get(b"n_notes", 0.0)}
            if b"seconds" in tail:
                values["seconds"] = tail[b"seconds"]
            self._arrived(values["version"], values["n_notes"], values.get("seconds"))

    def _arrived(self, version: float, notes: float, seconds: float | None) -> None:
        snap = Snapshot(time.monotonic(), int(version), int(notes), seconds)
        self.snapshots.append(snap)
        if self.on_snapshot is not None:
            self.on_snapshot(snap)

    async def post(self, text: str) -> None:
        assert self._ws is not None
        self._posted += 1
        payload = {"room": self.room, "id": str(uuid.uuid4()), "text": f"{text} ({self._posted})"}
        await self._ws.send(encode("note.post", payload, ref=f"p{self._posted}"))

    async def keep_busy(self, stop: asyncio.Event, lines: list[str]) -> None:
        """A note a second: the event is never clean, so its re-clusterings follow each other."""
        k = 0
        while not stop.is_set():
            await self.post(lines[k % len(lines)])
            k += 1
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)


# Commands and snapshots cross the pipe as JSON lines; the texts kept posting while busy.
_BUSY_TEXTS = 500


@dataclass
class WatchProcess(SnapshotLog):
    """A `BoardWatch` in a process of its own.

    The facilitator's snapshots of a 20,000-note event are megabytes each, one every few
    seconds. Received in this process, each would hold the loop that also times the room
    deliveries, and the stall would be counted as the server's; a real facilitator's
    browser is elsewhere. Its CPU still counts on this machine's cores, as the server's
    child's does.
    """

    url: str
    token: str
    room: str
    snapshots: list[Snapshot] = field(default_factory=list)
    _proc: asyncio.subprocess.Process | None = None
    _reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--watch",
            json.dumps({"url": self.url, "token": self.token, "room": self.room}),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        async for line in self._proc.stdout:
            self.snapshots.append(Snapshot(**json.loads(line)))

    async def _send(self, command: dict[str, object]) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(command).encode() + b"\n")
        await self._proc.stdin.drain()

    async def post(self, text: str) -> None:
        await self._send({"post": text})

    async def keep_busy(self, stop: asyncio.Event, lines: list[str]) -> None:
        await self._send({"busy": lines[:_BUSY_TEXTS]})
        await stop.wait()
        await self._send({"busy": None})

    async def close(self) -> None:
        if self._proc is not None:
            with suppress(ConnectionError):
                await self._send({"close": True})
            await self._proc.wait()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)


async def watch_main(spec: str) -> None:
    """The watcher process: commands on stdin, one JSON line per snapshot on stdout."""
    where = json.loads(spec)

    def report(snap: Snapshot) -> None:
        sys.stdout.write(json.dumps(vars(snap)) + "\n")
        sys.stdout.flush()

    watch = BoardWatch(where["url"], where["token"], where["room"], on_snapshot=report)
    await watch.open()
    loop = asyncio.get_running_loop()
    commands = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(commands), sys.stdin)
    stop: asyncio.Event | None = None
    busy: asyncio.Task[None] | None = None
    try:
        async for line in commands:
            command = json.loads(line)
            if "post" in command:
                await watch.post(command["post"])
            elif command.get("busy"):
                stop = asyncio.Event()
                busy = asyncio.create_task(watch.keep_busy(stop, command["busy"]))
            elif "busy" in command and stop is not None and busy is not None:
                stop.set()
                await busy
            elif command.get("close"):
                break
    finally:
        if stop is not None:
            stop.set()
        await watch.close()


@dataclass
class Stream:
    """Where the measured posting of one simulate run began and ended (monotonic)."""

    started: float = 0.0
    ended: float = 0.0

    def progress(self, message: str) -> None:
        if message.startswith("posting"):
            self.started = time.monotonic()
        elif "acknowledged" in message:
            self.ended = time.monotonic()


async def note_to_board(
    url: str, lines: list[str], preload: int, rate: float, seconds: float
) -> SimulateReport:
    say(f"note → board: preloading {preload} notes, then {rate:g} notes/s for {seconds:g} s")
    report = await simulate(
        SimulateOptions(
            url=url,
            texts=lines[: preload + round(rate * seconds)],
            participants=40,
            rooms=8,
            rate=rate,
            preload=preload,
            preload_rate=PRELOAD_RATE,
            themes_timeout=900,
            progress=say,
        )
    )
    say(format_report(report))
    return report


@dataclass
class ReclusterResult:
    big_notes: int
    fill_seconds: float  # first post until themes covered all of them
    runs: list[Snapshot]  # the large event's re-clusterings during the busy streams
    quiet: list[SimulateReport]
    busy: list[SimulateReport]
    busy_share: list[float]  # of each busy stream's posting time, the share spent re-clustering

    def p99(self, reports: list[SimulateReport]) -> float:
        values = [r.delivery_ms.p99 for r in reports if r.delivery_ms is not None]
        return statistics.mean(values) if values else float("nan")

    def p50(self, reports: list[SimulateReport]) -> float:
        values = [r.delivery_ms.p50 for r in reports if r.delivery_ms is not None]
        return statistics.mean(values) if values else float("nan")

    @property
    def run_seconds(self) -> list[float]:
        return [s.seconds for s in self.runs if s.seconds is not None]


@dataclass(frozen=True)
class Seeded:
    join_code: str
    secret: str
    notes: int


async def seed(database_url: str, lines: list[str], n: int, rooms: int = 8) -> Seeded:
    """An event of `n` notes written straight into the store, as a restarted server finds it.

    Posted over the wire, each note would also be placed live, one by one against the whole
    wall: tens of minutes for 20,000 notes on this machine. The re-clustering measured here
    starts from the stored notes either way, and embeds all of them on its first run.
    """
    from server.auth import hash_secret, new_secret
    from server.store import Store

    store = Store(database_url)
    try:
        secret = new_secret()
        event, tables = await store.create_event(
            "Large event", hash_secret(secret), [(f"Table {i + 1}", 60) for i in range(rooms)]
        )
        people = [
            await store.join(event.id, f"Seed {i + 1}", "participant", table.id)
            for i, table in enumerate(tables)
        ]
        for k, text in enumerate(lines[:n]):
            await store.post_note(people[k % rooms], tables[k % rooms], str(uuid.uuid4()), text)
    finally:
        await store.close()
    return Seeded(event.join_code, secret, n)


async def recluster_and_delivery(
    url: str, seeded: Seeded, lines: list[str], rate: float, seconds: float, repeats: int
) -> ReclusterResult:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        response = await http.post(
            f"/api/events/{seeded.join_code}/facilitate",
            json={"secret": seeded.secret, "pseudonym": "Bench"},
        )
        response.raise_for_status()
        joined = response.json()
    code, big = seeded.join_code, seeded.notes
    watch = WatchProcess(url, joined["token"], joined["rooms"][0]["id"])
    await watch.open()
    try:
        say(f"re-clustering: first themes of event {code}, {big} stored notes (embeds them all)")
        started = time.monotonic()
        await watch.post(lines[0])
        fill_seconds = await watch.until_notes(big, limit=1800)
        if fill_seconds is None:
            raise RuntimeError(f"no themes of the {big} notes of event {code} within 30 min")
        fill_seconds = round(fill_seconds - started, 1)
        say(f"first themes of event {code} after {fill_seconds:.0f} s")
        stream_lines = lines[big:] or lines
        stream_texts = [stream_lines[i % len(stream_lines)] for i in range(round(rate * seconds))]
        quiet: list[SimulateReport] = []
        busy: list[SimulateReport] = []
        shares: list[float] = []
        runs: list[Snapshot] = []
        for k in range(repeats):
            say(f"waiting until event {code} is idle")
            await watch.idle()
            say(f"stream {k + 1}/{repeats} with nothing else running")
            quiet.append(await _stream(url, stream_texts, rate, Stream()))
            stop = asyncio.Event()
            busy_task = asyncio.create_task(watch.keep_busy(stop, lines))
            # Let the first re-clustering begin (debounce: at most 5 s) before the stream.
            first = len(watch.snapshots)
            started = time.monotonic()
            await asyncio.sleep(6.0)
            say(f"stream {k + 1}/{repeats} while event {code} re-clusters")
            window = Stream()
            try:
                busy.append(await _stream(url, stream_texts, rate, window))
            finally:
                stop.set()
                await busy_task
            shares.append(watch.busy_share(window.started, window.ended or time.monotonic()))
            runs += [s for s in watch.snapshots[first:] if s.at > started]
        return ReclusterResult(
            big_notes=big,
            fill_seconds=fill_seconds,
            runs=runs,
            quiet=quiet,
            busy=busy,
            busy_share=shares,
        )
    finally:
        await watch.close()


async def _stream(url: str, lines: list[str], rate: float, window: Stream) -> SimulateReport:
    def progress(message: str) -> None:
        window.progress(message)
        say(message)

    report = await simulate(
        SimulateOptions(
            url=url,
            texts=lines,
            participants=48,
            rooms=8,
            rate=rate,
            themes_timeout=120,
            progress=progress,
        )
    )
    say(format_report(report))
    return report


@dataclass
class BoardFigures:
    board: SimulateReport | None
    recluster: ReclusterResult | None


async def measure(
    data: Path,
    *,
    preload: int,
    big: int,
    rate: float,
    seconds: float,
    repeats: int,
    directory: Path,
    skip_board: bool = False,
    skip_recluster: bool = False,
    model: str = "",
    topology: Topology | None = None,
) -> BoardFigures:
    lines = texts(data)
    seeded: Seeded | None = None
    topology = topology or Topology()
    say(f"topology: {topology.name}")
    database_url = topology.database_url or f"sqlite+aiosqlite:///{directory / 'board.db'}"
    await upgrade_async(database_url)
    if not skip_recluster:
        say(f"writing an event of {big} notes into {database_url}")
        seeded = await seed(database_url, lines, big)
    with served(directory, model, topology) as server:
        board = (
            None if skip_board else await note_to_board(server.url, lines, preload, rate, seconds)
        )
        recluster = None
        if seeded is not None:
            recluster = await recluster_and_delivery(
                server.url, seeded, lines, rate, seconds, repeats
            )
    return BoardFigures(board, recluster)


def rows(figures: BoardFigures) -> list[tuple[str, str, str]]:
    """(figure, value, goal) rows for the benchmark table."""
    out: list[tuple[str, str, str]] = []
    board = figures.board
    if board is not None and board.board_ms is not None:
        out.append(
            (
                f"note → facilitator's board, {board.preloaded:,}-note event, "
                f"{board.acked} notes streamed: p50 / p95 / p99 (s); never placed",
                f"{board.board_ms.p50 / 1000:.2f} / {board.board_ms.p95 / 1000:.2f} / "
                f"{board.board_ms.p99 / 1000:.2f}; {board.board_unplaced}",
                "p95 ≤ 2",
            )
        )
        runs = [r.seconds for r in board.reclusterings if r.seconds is not None and r.received > 0]
        if runs:
            out.append(
                (
                    f"full re-clustering, ~{board.preloaded:,} notes, during that stream (s, "
                    f"median of {len(runs)})",
                    f"{statistics.median(runs):.1f}",
                    "",
                )
            )
    result = figures.recluster
    if result is not None:
        seconds = result.run_seconds
        if seconds:
            out.append(
                (
                    f"full re-clustering, {result.big_notes:,} notes (s, median / max of "
                    f"{len(seconds)})",
                    f"{statistics.median(seconds):.1f} / {max(seconds):.1f}",
                    "≤ 15",
                )
            )
        out.append(
            (
                f"room delivery without / during re-clustering of {result.big_notes:,} notes: "
                "p50 (ms)",
                f"{result.p50(result.quiet):.1f} / {result.p50(result.busy):.1f}",
                "",
            )
        )
        quiet_p99 = [r.delivery_ms.p99 for r in result.quiet if r.delivery_ms is not None]
        busy_p99 = [r.delivery_ms.p99 for r in result.busy if r.delivery_ms is not None]
        share = statistics.mean(result.busy_share) if result.busy_share else 0.0
        out.append(
            (
                "room delivery without / during re-clustering: p99 (ms; each stream; "
                f"re-clustering ran {share:.0%} of the time)",
                f"{' '.join(f'{v:.1f}' for v in quiet_p99)} / "
                f"{' '.join(f'{v:.1f}' for v in busy_p99)}",
                "",
            )
        )
        out.append(
            (
                "room delivery p99, during ÷ without",
                f"{result.p99(result.busy) / result.p99(result.quiet):.2f}",
                "≈ 1 (within noise)",
            )
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--preload", type=int, default=5000, help="notes in the measured event")
    parser.add_argument("--big", type=int, default=20000, help="notes in the re-clustered event")
    parser.add_argument("--rate", type=float, default=10.0, help="notes/s of the measured stream")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each stream")
    parser.add_argument("--repeats", type=int, default=2, help="stream pairs, with and without")
    parser.add_argument("--skip-board", action="store_true", help="no note → board run")
    parser.add_argument("--skip-recluster", action="store_true", help="no re-clustering runs")
    parser.add_argument("--json", type=Path, help="also write the simulate reports here")
    parser.add_argument(
        "--model", default="", help="embedding model (default: the packaged MiniLM; 'hashing')"
    )
    parser.add_argument(
        "--production", action="store_true", help="PostgreSQL + Redis + a tablee worker process"
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--watch", help=argparse.SUPPRESS)  # runs as the watcher process
    args = parser.parse_args()
    if args.watch:
        asyncio.run(watch_main(args.watch))
        return 0
    with ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="tablee-board-"))
        topology = stack.enter_context(production(args.redis)) if args.production else None
        figures = asyncio.run(
            measure(
                args.data,
                preload=args.preload,
                big=args.big,
                rate=args.rate,
                seconds=args.seconds,
                repeats=args.repeats,
                directory=Path(tmp),
                skip_board=args.skip_board,
                skip_recluster=args.skip_recluster,
                model=args.model,
                topology=topology,
            )
        )
    print("| figure | value | goal |")
    print("|---|---|---|")
    for figure, value, goal in rows(figures):
        print(f"| {figure} | {value} | {goal} |")
    if args.json is not None:
        args.json.write_text(json.dumps(to_json(figures), indent=1, ensure_ascii=False))
    return 0


def to_json(figures: BoardFigures) -> dict[str, object]:
    out: dict[str, object] = {}
    if figures.board is not None:
        out["board"] = figures.board.to_json()
    if figures.recluster is not None:
        r = figures.recluster
        out["recluster"] = {
            "big_notes": r.big_notes,
            "fill_seconds": r.fill_seconds,
            "runs": [vars(s) for s in r.runs],
            "busy_share": r.busy_share,
            "quiet": [q.to_json() for q in r.quiet],
            "busy": [b.to_json() for b in r.busy],
        }
    return out


if __name__ == "__main__":
    sys.exit(main())
