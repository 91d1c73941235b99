"""Posts run in place on the event loop on SQLite: they must never hold it for long."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server.migrate import upgrade_async
from server.rooms import Participant, Room
from server.store import Store, sqlite_writes


@pytest.fixture
async def seated(tmp_path: Path) -> AsyncIterator[tuple[Store, Path, Room, Participant]]:
    path = tmp_path / "walls.db"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_async(url)
    store = Store(url)
    event, rooms = await store.create_event("Jury", "hash", [("T1", 8)])
    person = await store.join(event.id, "Ada", "participant", rooms[0].id)
    yield store, path, rooms[0], person
    await store.close()


def _notes_in_main_file(path: Path) -> int:
    """Notes the database file holds without its write-ahead log: what checkpoints copied."""
    with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as c:
        return int(c.execute("SELECT count(*) FROM notes").fetchone()[0])


async def test_a_post_waits_off_the_loop_while_another_process_holds_the_lock(
    seated: tuple[Store, Path, Room, Participant],
) -> None:
    store, path, room, person = seated
    await store.post_note(person, room, str(uuid.uuid4()), "first, in place")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # as another process writing would
    ticks: list[float] = []

    async def tick() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())
    note_id = str(uuid.uuid4())
    post = asyncio.create_task(store.post_note(person, room, note_id, "second, while locked"))
    await asyncio.sleep(0.5)
    assert not post.done(), "the post went through a lock another connection holds"
    other.execute("COMMIT")
    other.close()
    done = await asyncio.wait_for(post, 10)
    ticker.cancel()
    assert done.seq == 2 and done.note is not None and done.note.id == note_id
    # The loop went on while the post waited: no gap between ticks near the half second.
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert len(ticks) > 20 and max(gaps) < 0.25, f"the loop stalled {max(gaps):.3f} s"
    assert [n.text for n in (await store.snapshot(room.id)).notes] == [
        "first, in place",
        "second, while locked",
    ]


async def test_the_loop_never_checkpoints_and_the_writer_thread_does(
    seated: tuple[Store, Path, Room, Participant], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, path, room, person = seated
    # Some 150 posts put over SQLite's default 1,000 pages in the log: a connection with
    # its default settings would have copied most of them into the database file by now.
    monkeypatch.setattr(sqlite_writes, "CHECKPOINT_EVERY", 10_000)
    for i in range(150):
        await store.post_note(person, room, str(uuid.uuid4()), f"note {i} " + "words " * 30)
    before = _notes_in_main_file(path)
    assert before < 50, f"{before} of 150 notes were checkpointed on the event loop"

    monkeypatch.setattr(sqlite_writes, "CHECKPOINT_EVERY", 50)
    for i in range(50):
        await store.post_note(person, room, str(uuid.uuid4()), f"more {i}")
    copied = 0
    for _ in range(100):  # the checkpoint runs in the background
        try:
            copied = _notes_in_main_file(path)
        except sqlite3.DatabaseError:
            copied = 0  # read while the checkpoint was writing the file: look again
        if copied >= 150:
            break
        await asyncio.sleep(0.05)
    assert copied >= 150
    assert len((await store.snapshot(room.id)).notes) == 200
