"""Fan-out benchmark: Tablée on one process, on two over Redis, and a bare relay, in one run.

    .venv/bin/python bench/fanout.py [--participants 1000 --rooms 125 --rate 20 --seconds 30]

Prints one table: delivery latency p50/p99, server CPU time per delivered message, its ratio
to a bare `websockets` relay measured in the same run, and server memory per connected
participant. The relay runs twice: serving the same audience as Tablée's run (each room's
members and one client hearing every room, as Tablée's facilitator does; the baseline), and
serving the rooms only. Needs PostgreSQL and Redis for the two-process row (as the tests do).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server.simulate import SimulateOptions, simulate  # noqa: E402
from tests.conftest import end_process, free_port, scratch_postgres  # noqa: E402

# Both servers ping idle sockets this often (Tablée's default heartbeat).
KEEPALIVE = 15.0
REDIS = os.environ.get("TABLEE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TICKS = os.sysconf("SC_CLK_TCK")
SPY = (str(Path(sys.executable).parent / "py-spy"), "record", "-r", "200", "-f", "raw")


def _stat(path: Path) -> tuple[str, float]:
    """A /proc stat file's command name and CPU seconds (user + system)."""
    stat = path.read_text()
    fields = stat.rsplit(")", 1)[1].split()
    return stat[stat.find("(") + 1 : stat.rfind(")")], (int(fields[11]) + int(fields[12])) / TICKS


def cpu_seconds(pid: int) -> float:
    """A process's CPU seconds, its ended threads' included."""
    return _stat(Path(f"/proc/{pid}/stat"))[1]


def thread_seconds(pid: int) -> dict[str, float]:
    """CPU seconds of each live thread of a process, by thread name and id."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        name, seconds = _stat(task / "stat")
        out[f"{name}/{task.name}"] = seconds
    return out


class Window:
    """The measured span of a run: CPU per server, and optionally where it went.

    With a profile folder, each server's threads are reported and py-spy records each
    server's stacks (raw, collapsed) over exactly this span.
    """

    def __init__(self, pids: list[int], profile: Path | None, label: str) -> None:
        self.pids = pids
        self.profile = profile
        self.label = label
        self.cpu: float | None = None
        self._cpu0 = 0.0
        self._threads0: dict[int, dict[str, float]] = {}
        self._spies: list[subprocess.Popen[bytes]] = []

    def open(self) -> None:
        self._cpu0 = sum(cpu_seconds(p) for p in self.pids)
        if self.profile is not None:
            self._threads0 = {p: thread_seconds(p) for p in self.pids}
            self.profile.mkdir(parents=True, exist_ok=True)
            for p in self.pids:
                out = self.profile / f"{self.label}-{p}.txt"
                self._spies.append(
                    subprocess.Popen(
                        [*SPY, "-p", str(p), "-o", str(out)],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )

    def close(self) -> None:
        self.cpu = sum(cpu_seconds(p) for p in self.pids) - self._cpu0
        end = {p: thread_seconds(p) for p in self.pids} if self.profile is not None else {}
        for spy in self._spies:
            spy.send_signal(signal.SIGINT)  # py-spy writes its file when interrupted
        for spy in self._spies:
            spy.wait()
        for p, threads in end.items():
            spent = {t: threads[t] - self._threads0[p].get(t, 0.0) for t in threads}
            busy = ", ".join(f"{t} {s:.2f}" for t, s in spent.items() if s >= 0.01)
            print(f"{self.label} server {p}, CPU seconds by thread: {busy}", file=sys.stderr)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def texts(n: int) -> list[str]:
    shared = (
        ROOT.parent
        / "shared"
        / "data"
        / "polis"
        / "american-assembly.bowling-green"
        / "comments.csv"
    )
    if shared.exists():
        import csv

        with shared.open(newline="") as fh:
            rows = [r["comment-body"].strip() for r in csv.DictReader(fh) if r["moderated"] == "1"]
    else:
        rows = [t for t in (ROOT / "tests" / "data" / "notes.txt").read_text().splitlines() if t]
    return [rows[i % len(rows)][:500] for i in range(n)]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def bare(
    participants: int, rooms: int, rate: float, seconds: float, watcher: bool = False
) -> dict[str, float]:
    """The relay's run. With `watcher`, it serves Tablée's audience: one more client hears
    every room (Tablée's run has a facilitator), and an author's own copy is not counted
    (Tablée's author gets an acknowledgement, not counted either)."""
    port = free_port()
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once, before anything is measured
        [sys.executable, str(ROOT / "bench" / "bare_server.py"), str(port), str(KEEPALIVE)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "READY"
    try:
        rss0 = rss_kb(proc.pid)
        sockets = []
        for i in range(participants):
            sockets.append(await connect(f"ws://127.0.0.1:{port}/{i % rooms}", compression=None))
        rss1 = rss_kb(proc.pid)
        if watcher:
            sockets.append(await connect(f"ws://127.0.0.1:{port}/*", compression=None))
        sent: dict[str, float] = {}
        lat: list[float] = []

        async def read(ws: object, index: int) -> None:
            async for raw in ws:  # type: ignore[attr-defined]
                message = json.loads(raw)
                t = sent.get(message["id"])
                if t is not None and not (watcher and message["from"] == index):
                    lat.append(time.perf_counter() - t)

        readers = [asyncio.create_task(read(ws, i)) for i, ws in enumerate(sockets)]
        cpu0 = cpu_seconds(proc.pid)
        n = int(rate * seconds)
        began = time.perf_counter()
        for i, text in enumerate(texts(n)):
            mid = uuid.uuid4().hex
            sent[mid] = time.perf_counter()
            author = i % participants
            await sockets[author].send(json.dumps({"id": mid, "from": author, "text": text}))
            await asyncio.sleep(max(0.0, began + (i + 1) / rate - time.perf_counter()))
        await asyncio.sleep(2)
        cpu = cpu_seconds(proc.pid) - cpu0
        for ws in sockets:
            await ws.close()
        for r in readers:
            r.cancel()
        deliveries = len(lat)
        return {
            "p50": pct(lat, 0.5) * 1000,
            "p99": pct(lat, 0.99) * 1000,
            "cpu_us": cpu / max(deliveries, 1) * 1e6,
            "deliveries": deliveries,
            "kb_per_participant": (rss1 - rss0) / participants,
        }
    finally:
        proc.kill()
        proc.wait()


def start_tablee(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")


async def tablee(
    participants: int,
    rooms: int,
    rate: float,
    seconds: float,
    procs: int,
    tmp: Path,
    profile: Path | None = None,
) -> dict[str, float]:
    common = {
        "TABLEE_HEARTBEAT_SECONDS": str(KEEPALIVE),
        "TABLEE_WORKER": "off",
        "TABLEE_LOG_LEVEL": "warning",
        "TABLEE_RATE_PER_SECOND": "100",
        "TABLEE_RATE_BURST": "200",
    }
    cleanup = ExitStack()
    if procs == 1:
        envs = [{**common, "TABLEE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'bench.db'}"}]
    else:
        url = cleanup.enter_context(scratch_postgres("tablee_bench"))
        key = uuid.uuid4().hex
        envs = [
            {
                **common,
                "TABLEE_DATABASE_URL": url,
                "TABLEE_BROKER_URL": REDIS,
                "TABLEE_SECRET_KEY": key,
            }
        ] * procs
    servers = []
    for i, env in enumerate(envs):
        servers.append(start_tablee(env, tmp / f"server{i}.log"))
    pids = [p.pid for p, _ in servers]
    try:
        rss0 = sum(rss_kb(p) for p in pids)
        marks: dict[str, float] = {}
        window = Window(pids, profile, f"{procs}proc")

        def progress(msg: str) -> None:
            if "participants connected" in msg:
                marks["rss1"] = sum(rss_kb(p) for p in pids)
                window.open()
            elif msg.startswith("closing") and window.cpu is None:
                # Leaving is not delivering: the relay's figure stops before its clients go.
                window.close()

        report = await simulate(
            SimulateOptions(
                url=servers[0][1],
                also_urls=[u for _, u in servers[1:]],
                texts=texts(int(rate * seconds)),
                participants=participants,
                rooms=rooms,
                rate=rate,
                themes_timeout=1,
                progress=progress,
            )
        )
        cpu = window.cpu
        assert report.delivery_ms is not None and cpu is not None
        return {
            "p50": report.delivery_ms.p50,
            "p99": report.delivery_ms.p99,
            "cpu_us": cpu / max(report.deliveries, 1) * 1e6,
            "deliveries": report.deliveries,
            "kb_per_participant": (marks["rss1"] - rss0) / participants,
            "missing": report.missing_deliveries,
            "acked": report.acked,
        }
    finally:
        for p, _ in servers:
            end_process(p)
        cleanup.close()


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--participants", type=int, default=1000)
    ap.add_argument("--rooms", type=int, default=125)
    ap.add_argument("--rate", type=float, default=20.0)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="report each server's CPU by thread, and write py-spy stacks of it to DIR",
    )
    ap.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="run every server this many times, in turn; medians are printed",
    )
    args = ap.parse_args()
    run = (args.participants, args.rooms, args.rate, args.seconds)
    names = (
        "bare websockets relay, rooms only",
        "bare websockets relay, same audience (the baseline)",
        "Tablée, 1 process (SQLite)",
        "Tablée, 2 processes (PostgreSQL + Redis)",
    )
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeats):
            # In turn, so that a slow spell of a shared machine falls on every server alike.
            folder = Path(tmp) / str(i)
            folder.mkdir()
            runs[names[0]].append(await bare(*run))
            runs[names[1]].append(await bare(*run, watcher=True))
            runs[names[2]].append(await tablee(*run, 1, folder, args.profile))
            runs[names[3]].append(await tablee(*run, 2, folder, args.profile))
    print(
        f"\n{args.participants} participants in {args.rooms} rooms, {args.rate:g} notes/s for "
        f"{args.seconds:g} s; medians of {args.repeats} run(s) each, ratios taken within each "
        "round of runs\n"
    )
    print(
        "| server | delivery p50 ms | p99 ms | deliveries | CPU µs / delivery | × bare "
        "| × bare, rooms only | KB / participant |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name in names:
        rs = runs[name]
        ratio = [r["cpu_us"] / b["cpu_us"] for r, b in zip(rs, runs[names[1]], strict=True)]
        ratio_rooms = [r["cpu_us"] / b["cpu_us"] for r, b in zip(rs, runs[names[0]], strict=True)]
        print(
            f"| {name} | {_median(rs, 'p50'):.1f} | {_median(rs, 'p99'):.1f} "
            f"| {_median(rs, 'deliveries'):.0f} | {_median(rs, 'cpu_us'):.0f} "
            f"| {_spread(ratio)} | {_spread(ratio_rooms)} "
            f"| {_median(rs, 'kb_per_participant'):.1f} |"
        )
    missing = [sum(r["missing"] for r in runs[name]) for name in names[2:]]
    print(f"\nmissing deliveries: 1 process {missing[0]:.0f}, 2 processes {missing[1]:.0f}")


def _median(rs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in rs)


def _spread(values: list[float]) -> str:
    """The median, and the range when there are several runs."""
    mid = f"{statistics.median(values):.2f}"
    return mid if len(values) == 1 else f"{mid} ({min(values):.2f}–{max(values):.2f})"


if __name__ == "__main__":
    asyncio.run(main())
