"""Theme workers as separate processes on Redis: the job stream with a worker killed mid-run,
and live placement through the placement stream across several server processes."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.store import Store
from tests.client import Client, create_event, join
from tests.conftest import ROOT, LiveServer, PrivateRedis, WorkerProcess
from tests.theme_follower import ThemeFollower, normalised
from tests.topics import BIKES, MEALS

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Any]:
    started: list[WorkerProcess] = []

    def start(name: str, env: dict[str, str]) -> WorkerProcess:
        w = WorkerProcess(tmp_path, name, env)
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()


def _covered(payload: dict[str, Any]) -> set[str]:
    ids = [n for t in payload["themes"] for n in t["note_ids"]]
    ids += [u["id"] for u in payload["unthemed"]]
    assert len(ids) == len(set(ids)), "a note appears twice in one snapshot"
    return set(ids)


@pytest.mark.model
async def test_a_worker_killed_mid_run_loses_no_theme_job(
    start_server: Any, workers: Any, postgres_url: str
) -> None:
    stream = f"tablee:test:{uuid.uuid4().hex[:8]}"
    env = {
        "TABLEE_DATABASE_URL": postgres_url,
        "TABLEE_BROKER_URL": "redis://127.0.0.1:6379/0",
        "TABLEE_SECRET_KEY": "k-" + uuid.uuid4().hex,
        "TABLEE_WORKER": "external",
        "TABLEE_WORKER_CLAIM_IDLE_SECONDS": "2",
        "TABLEE_WORKER_SWEEP_SECONDS": "3",
        "TABLEE_JOBS_STREAM": stream,
        "TABLEE_PLACEMENT_STREAM": f"{stream}:place",
    }
    server = start_server(name="srv", **env)
    one = workers("w1", env)
    one.wait_for("ready", 120)
    two = workers("w2", env)
    two.wait_for("ready", 120)

    fac_s = await create_event(server.url, rooms=4)
    code = fac_s.event["join_code"]
    fac = await Client.open(server.ws_url, fac_s)
    await fac.request("themes.watch", {})
    # A console taking diffs, which come through Redis from whichever worker made them.
    follower = ThemeFollower(await Client.open(server.ws_url, fac_s))
    await follower.watch()
    people = [
        await Client.open(
            server.ws_url, await join(server.url, code, f"P{i}", fac_s.rooms[i % 4]["id"])
        )
        for i in range(8)
    ]
    texts = [
        line.strip() for line in (ROOT / "tests" / "data" / "notes.txt").read_text().splitlines()
    ]
    texts = [t for t in texts if t]
    acked: set[str] = set()
    try:
        for i, text in enumerate(texts * 3):
            c = people[i % len(people)]
            reply = await c.post(c.session.room_id, f"{text} ({i})")
            acked.add(reply["payload"]["note"]["id"])
        # Kill whichever worker starts the run, while it embeds.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        victim = None
        while victim is None and loop.time() < deadline:
            for w in (one, two):
                if "refreshing themes" in w.log():
                    victim = w
                    break
            await asyncio.sleep(0.01)
        assert victim is not None, "no worker picked up the job"
        victim.kill9()
        killed_at = loop.time()
        survivor = two if victim is one else one

        async with asyncio.timeout(60):
            while True:
                snap = (await fac.next("themes.snapshot", timeout=60))["payload"]
                if acked <= _covered(snap):
                    break
        took = loop.time() - killed_at
        print(
            f"worker killed mid-run; {len(acked)} notes themed by the survivor {took:.1f} s later"
        )
        assert "refreshing themes" in survivor.log()
        store = Store(postgres_url)
        try:
            latest = await store.themes.latest(fac_s.event["id"])
        finally:
            await store.close()
        assert latest is not None and acked <= _covered(latest)
        held = await follower.until(snap["version"])
        assert normalised(held) == normalised(snap)
        # The survivor's next update reaches that console as a diff through Redis.
        more = {
            (await c.post(c.session.room_id, f"{texts[i]} (more {i})"))["payload"]["note"]["id"]
            for i, c in enumerate(people)
        }
        async with asyncio.timeout(60):
            while not (acked | more) <= _covered(snap):
                snap = (await fac.next("themes.snapshot", timeout=60))["payload"]
        held = await follower.until(snap["version"])
        assert normalised(held) == normalised(snap)
        assert follower.diffs >= 1
    finally:
        for c in (*people, fac, follower.client):
            await c.close()


# Live placement --------------------------------------------------------------------------

NEW_NOTES = [
    "bike lanes painted green",
    "bike lanes along the river",
    "wider bike lanes for cargo bikes",
    "bike lanes separated by planters",
    "more bike lanes near the station",
    "school meals with fresh fruit",
    "school meals without plastic",
    "vegetarian school meals twice a week",
    "school meals for teachers too",
    "school meals served warm",
]


def _cluster_env(postgres_url: str, redis: PrivateRedis) -> dict[str, str]:
    return {
        "TABLEE_DATABASE_URL": postgres_url,
        "TABLEE_BROKER_URL": redis.url,
        "TABLEE_SECRET_KEY": "k-" + uuid.uuid4().hex,
        "TABLEE_WORKER": "external",
        "TABLEE_EMBEDDING_MODEL": "hashing",
        "TABLEE_PLACEMENT_MAX_AGE_SECONDS": "3",
    }


async def _assigned(fac: Client, note_id: str, seen: list[str], timeout: float = 10) -> Any:
    """The `themes.assigned` of `note_id`; the note ids of those before it go to `seen`."""
    async with asyncio.timeout(timeout):
        while True:
            frame = await fac.next("themes.assigned", timeout=timeout)
            seen.append(frame["payload"]["note"])
            if frame["payload"]["note"] == note_id:
                return frame["payload"]


async def _similar(author: Client, note_id: str, timeout: float = 10) -> Any:
    async with asyncio.timeout(timeout):
        while True:
            frame = await author.next("note.similar", timeout=timeout)
            if frame["payload"]["note"] == note_id:
                return frame["payload"]


async def _themed_wall(
    a: LiveServer, b: LiveServer
) -> tuple[Client, Client, Client, dict[str, str]]:
    """A facilitator on B; Ana on A and Ben on B, who post two topics until themes form."""
    fac_s = await create_event(a.url, rooms=2)
    code = fac_s.event["join_code"]
    r1, r2 = fac_s.rooms[0]["id"], fac_s.rooms[1]["id"]
    fac = await Client.open(b.ws_url, fac_s)
    ana = await Client.open(a.ws_url, await join(a.url, code, "Ana", r1))
    ben = await Client.open(b.ws_url, await join(b.url, code, "Ben", r2))
    assert (await fac.request("themes.watch", {}))["type"] == "ack"
    posted: dict[str, str] = {}
    for i, text in enumerate(BIKES + MEALS):
        who = ana if i % 2 == 0 else ben
        posted[text] = (await who.post(who.session.room_id, text))["payload"]["note"]["id"]
    async with asyncio.timeout(30):
        while True:
            snap = (await fac.next("themes.snapshot", timeout=30))["payload"]
            if set(posted.values()) <= _covered(snap) and len(snap["themes"]) >= 2:
                break
    return fac, ana, ben, posted


def _placed_batches(worker: WorkerProcess) -> int:
    return worker.log().count("placed ")


async def test_a_note_posted_on_one_server_is_placed_for_a_facilitator_on_another(
    start_server: Any, workers: Any, postgres_url: str, private_redis: PrivateRedis
) -> None:
    env = _cluster_env(postgres_url, private_redis)
    a = start_server(name="a", **env)
    b = start_server(name="b", **env)
    pool = [workers(f"w{i}", {**env, "TABLEE_LOG_LEVEL": "debug"}) for i in (1, 2)]
    for w in pool:
        w.wait_for("ready", 60)
    fac, ana, ben, posted = await _themed_wall(a, b)
    try:
        # A step runs now: each placement names it, so a console counts the note in it.
        agenda = await fac.request("agenda.set", {"steps": [{"title": "Ideas"}]})
        step = agenda["payload"]["agenda"]["steps"][0]["id"]
        assert (await fac.request("step.start", {"step": step}))["type"] == "ack"
        latencies: list[float] = []
        themed = 0
        for text in NEW_NOTES:
            started = time.perf_counter()
            reply = await ana.post(ana.session.room_id, text)
            placed = await _assigned(fac, reply["payload"]["note"]["id"], [], timeout=5)
            latencies.append(time.perf_counter() - started)
            themed += placed["theme"] is not None
            assert placed["text"] == text and placed["room_id"] == ana.session.room_id
            assert placed["step_id"] == step
        latencies.sort()
        print(
            f"themes.assigned on server B for notes posted on server A, {len(latencies)} notes: "
            f"p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, "
            f"max {latencies[-1] * 1000:.0f} ms; {themed} placed in a theme"
        )
        assert latencies[-1] < 2.0
        assert themed >= len(NEW_NOTES) - 2

        # Near twins: of an old note, for an author on either server; and of a note just
        # placed, which the other worker may have placed.
        for author, original in ((ana, BIKES[0]), (ben, MEALS[1])):
            reply = await author.post(author.session.room_id, original)
            hint = await _similar(author, reply["payload"]["note"]["id"], timeout=5)
            assert hint["similar"][0]["id"] == posted[original]
            assert hint["similar"][0]["text"] == original
        fresh = [
            "a tram line to the harbour",
            "night buses every half hour",
            "car free sundays downtown",
        ]
        for text in fresh:
            first = (await ben.post(ben.session.room_id, text))["payload"]["note"]["id"]
            await _assigned(fac, first, [], timeout=5)
            started = time.perf_counter()
            twin = (await ana.post(ana.session.room_id, text))["payload"]["note"]["id"]
            hint = await _similar(ana, twin, timeout=5)
            assert hint["similar"][0]["id"] == first
            assert hint["similar"][0]["same_room"] is False
            took = time.perf_counter() - started
            print(f"twin of a note posted on B offered on A after {took:.3f} s")
        # Only its author hears of a twin: Ben's connection got none of Ana's hints.
        while not ben.frames.empty():
            assert ben.frames.get_nowait()["type"] != "note.similar"
        batches = [_placed_batches(w) for w in pool]
        print(f"placement batches per worker: {batches}")
        assert all(n > 0 for n in batches), "both workers share the placement stream"
    finally:
        for c in (ana, ben, fac):
            await c.close()


async def test_posting_goes_on_while_no_worker_places_and_stale_placements_are_dropped(
    start_server: Any, workers: Any, postgres_url: str, private_redis: PrivateRedis
) -> None:
    env = _cluster_env(postgres_url, private_redis)
    a = start_server(name="a", **env)
    b = start_server(name="b", **env)
    worker = workers("w1", env)
    worker.wait_for("ready", 60)
    fac, ana, ben, _ = await _themed_wall(a, b)
    try:
        reply = await ana.post(ana.session.room_id, NEW_NOTES[0])
        await _assigned(fac, reply["payload"]["note"]["id"], [], timeout=5)

        worker.kill9()
        unplaced: list[str] = []
        acks: list[float] = []
        for i, text in enumerate(NEW_NOTES[1:6]):
            who = ana if i % 2 == 0 else ben
            started = time.perf_counter()
            reply = await who.post(who.session.room_id, text)
            acks.append(time.perf_counter() - started)
            assert reply["type"] == "ack"
            unplaced.append(reply["payload"]["note"]["id"])
        print(
            f"with no worker: {len(acks)} posts acknowledged, slowest in {max(acks) * 1000:.0f} ms"
        )
        assert max(acks) < 1.0
        with pytest.raises(TimeoutError):
            await fac.next("themes.assigned", timeout=1)
        async with httpx.AsyncClient() as http:
            metrics = (await http.get(a.url + "/metrics")).text
        waiting = [
            float(line.split()[1])
            for line in metrics.splitlines()
            if line.startswith("tablee_placements_waiting ")
        ]
        print(f"placements waiting for a worker, as /metrics says: {waiting}")
        assert waiting and waiting[0] >= 1

        # Past the allowed age, a new worker drops those placements and places new notes.
        await asyncio.sleep(3)
        again = workers("w2", {**env, "TABLEE_LOG_LEVEL": "debug"})
        # Off the event loop: the open sockets must keep answering the server's pings.
        await asyncio.to_thread(again.wait_for, "ready", 60)
        started = time.perf_counter()
        reply = await ben.post(ben.session.room_id, NEW_NOTES[6])
        seen: list[str] = []
        placed = await _assigned(fac, reply["payload"]["note"]["id"], seen, timeout=10)
        took = time.perf_counter() - started
        print(f"a new worker placed a note {took:.3f} s after it was posted")
        assert placed["theme"] is not None
        assert not set(seen) & set(unplaced), "stale placements are dropped, not replayed"
        again.wait_for("dropped 5 placements", 5)
    finally:
        for c in (ana, ben, fac):
            await c.close()
