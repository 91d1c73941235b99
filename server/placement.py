"""Each acknowledged note placed in a theme at once, and its near twins offered to its author.

Notes of one event posted within `PLACE_BATCH_SECONDS` of each other are placed as one
batch: embedding 32 notes at once costs a third of embedding them one by one. Where a batch
goes depends on who makes the themes:

- this process (`TABLEE_WORKER=inprocess`): its theme worker places the batch; this process
  publishes `themes.assigned` to the theme watchers and offers `note.similar` to the author;
- `tablee worker` processes (`external`): the batch goes to the placement stream; a worker
  places it and publishes both frames itself, `note.similar` on the channel of the author's
  connection, to which only the process holding that connection listens.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from nlp.themes import NoteInput

from . import protocol
from .hub import Connection, Hub, themes_channel
from .rooms import Note

if TYPE_CHECKING:
    from nlp.incremental import Placement
    from nlp.worker import ThemeWorker

    from .placement_stream import PlacementStream

log = logging.getLogger("tablee.themes")

# Notes posted within this many seconds of each other are embedded in one batch.
PLACE_BATCH_SECONDS = 0.05

Posted = tuple[Connection, Note]
PlaceBatch = Callable[[str, list[Posted]], Awaitable[None]]
"""Places (event id, the notes just posted with their authors' connections)."""


def connection_channel(conn_id: str) -> str:
    """What is meant for one connection only, on whichever process holds it."""
    return f"conn:{conn_id}"


class NoteLookup(Protocol):
    async def note(self, note_id: str) -> Note | None: ...


@dataclass
class _Waiting:
    notes: list[Posted] = field(default_factory=list)
    task: asyncio.Task[None] | None = None


class PlacementBatcher:
    """Gathers each event's new notes for `PLACE_BATCH_SECONDS`, then places them together."""

    def __init__(self, place: PlaceBatch, *, delay: float = PLACE_BATCH_SECONDS) -> None:
        self._place = place
        self._delay = delay
        self._waiting: dict[str, _Waiting] = {}

    def add(self, conn: Connection, event_id: str, note: Note) -> None:
        waiting = self._waiting.setdefault(event_id, _Waiting())
        waiting.notes.append((conn, note))
        if waiting.task is None or waiting.task.done():
            waiting.task = asyncio.create_task(self._drain(event_id, waiting))

    async def _drain(self, event_id: str, waiting: _Waiting) -> None:
        while waiting.notes:
            await asyncio.sleep(self._delay)
            batch, waiting.notes = waiting.notes, []
            if not batch:
                break  # the event was erased meanwhile (`forget`)
            try:
                await self._place(event_id, batch)
            except Exception:
                log.exception("placing %d notes of %s failed", len(batch), event_id)
        if self._waiting.get(event_id) is waiting:
            del self._waiting[event_id]

    def forget(self, event_id: str) -> None:
        """The event was erased: its notes still waiting are not placed. A batch being placed
        finishes, and the theme worker drops what it made of it."""
        waiting = self._waiting.pop(event_id, None)
        if waiting is not None:
            waiting.notes.clear()

    async def close(self) -> None:
        tasks = [w.task for w in self._waiting.values() if w.task is not None]
        self._waiting.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def placement_frames(
    notes: NoteLookup,
    note_id: str,
    text: str,
    room_id: str,
    step_id: str | None,
    placed: Placement,
) -> tuple[str, str | None]:
    """`themes.assigned` for the theme watchers and, when the wall holds near twins that
    still exist, `note.similar` for the author. The room and step let a console count the
    note where its theme was raised until the next update."""
    payload = {**placed.to_payload(), "text": text, "room_id": room_id, "step_id": step_id}
    assigned = protocol.encode("themes.assigned", payload)
    similar: list[dict[str, Any]] = []
    for other_id, score in placed.similar:
        other = await notes.note(other_id)
        if other is not None:
            similar.append(
                {
                    "id": other.id,
                    "text": other.text,
                    "room_id": other.room_id,
                    "score": round(float(np.clip(score, -1.0, 1.0)), 3),
                    "same_room": other.room_id == room_id,
                }
            )
    if not similar:
        return assigned, None
    # The author's own room first: "+1" is most natural on the wall they see.
    similar.sort(key=lambda s: (not s["same_room"], -float(s["score"])))
    return assigned, protocol.encode("note.similar", {"note": note_id, "similar": similar})


def _inputs(batch: Sequence[Posted]) -> list[NoteInput]:
    return [NoteInput(n.id, n.text, n.room_id, n.created_at.timestamp()) for _, n in batch]


def local_placer(worker: ThemeWorker, hub: Hub, notes: NoteLookup) -> PlaceBatch:
    """Places with this process's theme worker and announces from here."""

    async def place(event_id: str, batch: list[Posted]) -> None:
        placed = await worker.place(event_id, _inputs(batch))
        if not placed:
            return  # the model is still loading
        for (conn, note), placement in zip(batch, placed, strict=True):
            assigned, similar = await placement_frames(
                notes, note.id, note.text, note.room_id, note.step_id, placement
            )
            await hub.publish(themes_channel(event_id), assigned)
            if similar is not None:
                conn.offer(similar)

    return place


def queued_placer(stream: PlacementStream, hub: Hub) -> PlaceBatch:
    """Hands the batch to `tablee worker` processes; they announce it themselves."""
    from .placement_stream import PlacementJob, PlacementStreamError

    async def place(event_id: str, batch: list[Posted]) -> None:
        jobs: list[PlacementJob] = []
        for conn, note in batch:
            # Gone already: `hub.remove` has run, and listening now would outlive it. The
            # check and the listener's registration run without a pause in between.
            if conn not in hub.connections or conn.dropped:
                continue
            channel = connection_channel(conn.id)
            if channel not in conn.channels:
                await hub.listen(conn, channel)
            jobs.append(
                PlacementJob(
                    "",
                    event_id,
                    note.id,
                    note.text,
                    note.room_id,
                    note.created_at.timestamp(),
                    conn.id,
                    note.step_id,
                )
            )
        if not jobs:
            return
        try:
            await stream.enqueue(jobs)
        except PlacementStreamError as exc:
            # The next re-clustering themes these notes; only the live hint is lost.
            log.warning("could not queue %d placements: %s", len(jobs), exc)

    return place
