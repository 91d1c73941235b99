"""Fault tests on real processes: two servers on PostgreSQL and Redis, clients on loopback.

Each prints its figure. Nothing acknowledged may be lost or doubled, and every client ends
up with the stored truth.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.store import Store
from tests.client import Client, Session, create_event, join
from tests.conftest import LiveServer, PrivateRedis
from tests.frozen_clients import freeze
from tests.resilient import Resilient

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
HEARTBEAT = 1.0


def _env(
    postgres_url: str, redis_url: str = "redis://127.0.0.1:6379/0", **extra: str
) -> dict[str, str]:
    return {
        "TABLEE_DATABASE_URL": postgres_url,
        "TABLEE_BROKER_URL": redis_url,
        "TABLEE_SECRET_KEY": "k-" + uuid.uuid4().hex,
        "TABLEE_WORKER": "off",
        "TABLEE_HEARTBEAT_SECONDS": str(HEARTBEAT),
        "TABLEE_RATE_PER_SECOND": "500",
        "TABLEE_RATE_BURST": "500",
        **extra,
    }


def _two(start_server: Any, env: dict[str, str]) -> tuple[LiveServer, LiveServer]:
    return start_server(name="one", **env), start_server(name="two", **env)


async def _people(
    url: str, n_rooms: int, per_room: int
) -> tuple[Session, list[str], list[tuple[str, Session]]]:
    fac = await create_event(url, rooms=n_rooms, capacity=max(per_room, 1))
    code = fac.event["join_code"]
    rooms = [r["id"] for r in fac.rooms]
    seated = []
    for r in rooms:
        for i in range(per_room):
            seated.append((r, await join(url, code, f"P{i}", r)))
    return fac, rooms, seated


async def _truth(postgres_url: str, rooms: list[str]) -> dict[str, set[str]]:
    store = Store(postgres_url)
    try:
        return {r: {n.id for n in (await store.snapshot(r)).notes} for r in rooms}
    finally:
        await store.close()


async def _connect_all(clients: list[Resilient], at_once: int = 20) -> None:
    gate = asyncio.Semaphore(at_once)

    async def one(c: Resilient) -> None:
        async with gate:
            await c.connect()

    await asyncio.gather(*(one(c) for c in clients))


async def _converge(clients: list[Resilient], truth: dict[str, set[str]], within: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < within:
        if all(c.wall == truth[c.room] for c in clients):
            return time.monotonic() - start
        await asyncio.sleep(0.05)
    wrong = [c for c in clients if c.wall != truth[c.room]]
    raise AssertionError(f"{len(wrong)} clients differ from the database after {within} s")


async def test_presence_has_no_ghosts_after_30_clients_die_without_a_close(
    start_server: Any, postgres_url: str
) -> None:
    one, two = _two(start_server, _env(postgres_url))
    fac, rooms, seated = await _people(one.url, 4, 10)
    urls = [one.ws_url, two.ws_url]
    doomed, kept_s = seated[:30], seated[30:]
    kept = [Resilient(s, [urls[i % 2]], r) for i, (r, s) in enumerate(kept_s)]
    await _connect_all(kept)
    # In a thread: this loop must keep answering pings for the clients that stay.
    frozen = await asyncio.to_thread(
        freeze,
        [{"ws_url": urls[i % 2], "token": s.token, "room": r} for i, (r, s) in enumerate(doomed)],
    )
    try:
        # A facilitator on each process reads each room's member list as a console does.
        watchers = [await Client.open(srv.ws_url, fac) for srv in (one, two)]
        for w in watchers:
            present = {m["id"] for m in (await w.join_room(rooms[0]))["payload"]["members"]}
            assert len(present) == 10, "everyone is present before the network goes"
        stopped = time.monotonic()
        want = {r: {c.session.participant["id"] for c in kept if c.room == r} for r in rooms}
        right: dict[tuple[int, str], float] = {}
        while time.monotonic() - stopped < 4 * HEARTBEAT + 8 and len(right) < 2 * len(rooms):
            for i, w in enumerate(watchers):
                for r in rooms:
                    if (i, r) not in right:
                        joined = await w.join_room(r)
                        if {m["id"] for m in joined["payload"]["members"]} == want[r]:
                            right[(i, r)] = time.monotonic() - stopped
            await asyncio.sleep(0.1)
        if len(right) < 2 * len(rooms):
            for i, w in enumerate(watchers):
                for r in rooms:
                    got = {m["id"] for m in (await w.join_room(r))["payload"]["members"]}
                    print(
                        f"process {i} room {r[:6]}: {len(got)} present, {len(want[r])} wanted, "
                        f"ghosts {len(got - want[r])}, missing {len(want[r] - got)}"
                    )
        assert len(right) == 2 * len(rooms), "ghosts remain on some process"
        worst = max(right.values())
        print(
            f"30 clients frozen without a close: presence right on both processes after "
            f"{worst:.1f} s (heartbeat {HEARTBEAT:.0f} s, pong timeout {HEARTBEAT:.0f} s), 0 ghosts"
        )
        assert worst > HEARTBEAT / 2, "the frozen clients were noticed by their silence"
    finally:
        frozen.kill()
        frozen.wait()
    for c in kept:
        await c.close()
    for w in watchers:
        await w.close()


async def test_a_reconnect_after_200_missed_notes_gets_them_all_in_order(
    start_server: Any, postgres_url: str
) -> None:
    one, two = _two(start_server, _env(postgres_url, TABLEE_HISTORY_PER_ROOM="300"))
    _, _, seated = await _people(one.url, 1, 2)
    (room, writer_s), (_, reader_s) = seated
    writer = Resilient(writer_s, [one.ws_url], room)
    reader = Resilient(reader_s, [two.ws_url], room)
    await writer.connect()
    await reader.connect()
    await writer.post("before")
    await asyncio.sleep(0.3)
    await reader.close()
    for i in range(200):
        await writer.post(f"missed {i}")
    reader = Resilient(
        reader_s, [one.ws_url], room, seq=reader.seq, epoch=reader.epoch, wall=set(reader.wall)
    )
    before = reader.seq
    await reader.connect()
    assert reader.order == list(range(before + 1, before + 201))
    assert reader.gaps == 0 and reader.duplicates == 0
    truth = await _truth(postgres_url, [room])
    assert reader.wall == truth[room]
    print("reconnect after 200 missed notes: 200 recovered in order, 0 gaps, 0 duplicates")

    # Now a gap older than the kept history: a fresh snapshot, flagged, equal to the database.
    await reader.close()
    for i in range(350):
        await writer.post(f"long gone {i}")
    late = await Client.open(two.ws_url, reader_s)
    joined = await late.join_room(room, since={"seq": reader.seq, "epoch": reader.epoch})
    p = joined["payload"]
    assert p["recovered"] is False
    truth = await _truth(postgres_url, [room])
    assert {n["id"] for n in p["notes"]} == truth[room]
    print("gap older than the kept history: snapshot not recovered, equal to the database")
    await late.close()
    await writer.close()


async def test_retried_posts_with_lost_acks_make_no_duplicates(
    start_server: Any, postgres_url: str
) -> None:
    # 10,000 posts is the full run (TABLEE_FAULT_POSTS=10000, several minutes here).
    total = int(os.environ.get("TABLEE_FAULT_POSTS", "1000"))
    one, two = _two(start_server, _env(postgres_url))
    _, rooms, seated = await _people(one.url, 10, 5)
    urls = [one.ws_url, two.ws_url]
    clients = [
        Resilient(s, [urls[i % 2]], r, drop_acks=0.2, _rng_state=i + 1)
        for i, (r, s) in enumerate(seated)
    ]
    await _connect_all(clients)
    per_client = total // len(clients)
    began = time.monotonic()

    async def run(c: Resilient) -> None:
        for i in range(per_client):
            await c.post(f"note {i}", sends=3, timeout=5)

    await asyncio.gather(*(run(c) for c in clients))
    took = time.monotonic() - began
    store = Store(postgres_url)
    try:
        stored = 0
        for r in rooms:
            stored += len((await store.snapshot(r)).notes)
    finally:
        await store.close()
    posted = per_client * len(clients)
    assert stored == posted
    assert all(len(c.acked) == per_client for c in clients)
    print(
        f"{posted} posts sent 3 times each, 20% of acks dropped: {stored} notes stored, "
        f"0 duplicates ({posted * 3 / took:.0f} frames/s)"
    )
    for c in clients:
        await c.close()


async def test_a_server_killed_with_200_clients_loses_nothing(
    start_server: Any, postgres_url: str
) -> None:
    one, two = _two(start_server, _env(postgres_url))
    _, rooms, seated = await _people(one.url, 25, 8)
    clients = [
        Resilient(s, [(one if i % 2 == 0 else two).ws_url, two.ws_url], r)
        for i, (r, s) in enumerate(seated)
    ]
    await _connect_all(clients)
    posters = clients[::5]
    stop = asyncio.Event()

    async def keep_posting(c: Resilient) -> None:
        i = 0
        while not stop.is_set():
            await c.post(f"during the failure {i}", timeout=2)
            i += 1
            await asyncio.sleep(0.2)

    async def watch(c: Resilient) -> None:
        await c.closed_by_server.wait()
        if not stop.is_set():
            await c.failover()

    tasks = [asyncio.create_task(keep_posting(c)) for c in posters]
    watchers = [asyncio.create_task(watch(c)) for c in clients if c.urls[0] == one.ws_url]
    await asyncio.sleep(2)
    one.proc.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*watchers), 15)
    back = time.monotonic() - killed
    await asyncio.sleep(2)
    stop.set()
    await asyncio.gather(*tasks)
    truth = await _truth(postgres_url, rooms)
    acked = set().union(*(c.acked for c in clients))
    stored = set().union(*truth.values())
    assert acked <= stored, f"{len(acked - stored)} acknowledged notes are not in the database"
    settle = await _converge(clients, truth, within=10)
    moved = sum(1 for c in clients if c.reconnects)
    print(
        f"kill -9 of one server: {moved} clients reconnected within {back:.1f} s; "
        f"{len(acked)} acked notes, 0 missing from the database, every client matched it "
        f"{settle:.1f} s after the posting stopped"
    )
    for c in clients:
        await c.close()


async def test_redis_down_for_a_while_then_back(
    start_server: Any, postgres_url: str, private_redis: PrivateRedis
) -> None:
    outage = float(os.environ.get("TABLEE_FAULT_OUTAGE_SECONDS", "15"))
    url = private_redis.url
    one, two = _two(start_server, _env(postgres_url, url))
    _, rooms, seated = await _people(one.url, 3, 4)
    clients = [
        Resilient(s, [(one if i % 2 == 0 else two).ws_url], r) for i, (r, s) in enumerate(seated)
    ]
    await _connect_all(clients)
    private_redis.stop()
    down_at = time.monotonic()
    posted_during = 0
    while time.monotonic() - down_at < outage:
        for c in clients[::3]:
            await c.post("while Redis is down", timeout=3)
            posted_during += 1
        await asyncio.sleep(0.5)
    private_redis.start()
    up_at = time.monotonic()
    # Fan-out resumes: a note posted now on one process reaches the other process's clients.
    first = next(c for c in clients if c.urls[0] == one.ws_url)
    other = next(c for c in clients if c.urls[0] == two.ws_url and c.room == first.room)
    resumed = None
    while resumed is None and time.monotonic() - up_at < 10:
        note = await first.post("after Redis came back", timeout=3)
        for _ in range(10):
            if note in other.wall:
                resumed = time.monotonic() - up_at
                break
            await asyncio.sleep(0.02)
    assert resumed is not None and resumed <= 2.0 + 1.0, f"fan-out resumed after {resumed}"
    truth = await _truth(postgres_url, rooms)
    acked = set().union(*(c.acked for c in clients))
    assert acked <= set().union(*truth.values()), "a note was acknowledged but not stored"
    settle = await _converge(clients, truth, within=5)
    print(
        f"Redis down {outage:.0f} s ({posted_during} notes posted meanwhile): fan-out resumed "
        f"{resumed:.2f} s after it came back; every client matched the database "
        f"{(time.monotonic() - up_at):.1f} s after (converged in {settle:.1f} s)"
    )
    for c in clients:
        await c.close()


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def _frozen_socket(ws_url: str, token: str) -> Any:
    """A member whose app stopped reading: a tiny receive buffer, and nothing read."""
    import socket as sockets

    from websockets.asyncio.client import connect

    host, port = ws_url.split("//", 1)[1].split("/", 1)[0].split(":")
    sock = sockets.socket(sockets.AF_INET, sockets.SOCK_STREAM)
    sock.setsockopt(sockets.SOL_SOCKET, sockets.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    return await connect(
        ws_url,
        sock=sock,
        subprotocols=["tablee.v1", "token." + token],  # type: ignore[list-item]
        max_queue=1,
    )


async def test_a_frozen_reader_is_dropped_and_others_do_not_wait(
    start_server: Any, postgres_url: str
) -> None:
    server = start_server(
        name="frozen",
        **_env(
            postgres_url,
            TABLEE_SEND_QUEUE_FRAMES="32",
            TABLEE_SOCKET_SEND_BUFFER="8192",
            # The frozen reader answers no ping: with the 1 s heartbeat of the other tests the
            # keepalive could close it before its queue fills, and this test is about the queue.
            TABLEE_HEARTBEAT_SECONDS="30",
        ),
    )
    _, _, seated = await _people(server.url, 1, 6)
    room = seated[0][0]
    poster = await Client.open(server.ws_url, seated[0][1])
    readers = [await Client.open(server.ws_url, s) for _, s in seated[1:5]]
    for c in (poster, *readers):
        await c.join_room(room)
    sent_at: dict[str, float] = {}
    latencies: list[float] = []

    async def read(c: Client, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                f = await c.next("note.added", timeout=0.5)
            except TimeoutError:
                continue
            t = sent_at.get(f["payload"]["note"]["id"])
            if t is not None:
                latencies.append(time.monotonic() - t)

    async def phase(seconds: float, rate: float) -> list[float]:
        latencies.clear()
        stop = asyncio.Event()
        tasks = [asyncio.create_task(read(c, stop)) for c in readers]
        began = time.monotonic()
        i = 0
        while time.monotonic() - began < seconds:
            note_id = str(uuid.uuid4())
            sent_at[note_id] = time.monotonic()
            await poster.post(room, f"{i} " + "x" * 480, note_id)
            i += 1
            await asyncio.sleep(max(0.0, began + i / rate - time.monotonic()))
        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.gather(*tasks)
        return list(latencies)

    base = await phase(8, 50)
    rss_before = _rss_kb(server.proc.pid)
    frozen = await _frozen_socket(server.ws_url, seated[5][1].token)
    await frozen.send(json.dumps({"v": 1, "type": "room.join", "payload": {"room": room}}))
    with_frozen = await phase(15, 50)
    rss_after = _rss_kb(server.proc.pid)
    async with httpx.AsyncClient(base_url=server.url) as http:
        metrics = (await http.get("/metrics")).text
    dropped = next(
        float(line.split()[1])
        for line in metrics.splitlines()
        if line.startswith("tablee_connections_dropped_slow_total ")
    )
    frozen.transport.abort()
    for c in (poster, *readers):
        await c.close()
    p_base, p_frozen = _p99(base) * 1000, _p99(with_frozen) * 1000
    print(
        f"frozen reader at 50 notes/s: other members' p99 {p_frozen:.1f} ms with it vs "
        f"{p_base:.1f} ms without; dropped {dropped:.0f} time(s); server RSS "
        f"{(rss_after - rss_before) / 1024:+.1f} MB"
    )
    assert dropped >= 1, "the frozen reader was never dropped"
    assert p_frozen <= max(3 * p_base, p_base + 50), "a frozen reader slowed the room down"
    assert rss_after - rss_before < 50 * 1024, "memory grew without bound"
