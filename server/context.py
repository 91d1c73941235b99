"""What the lifespan opens and every request handler shares."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import protocol
from .auth import TokenSigner
from .hub import Hub, event_channel, staff_channel
from .presence_registry import LocalPresence, PresenceRegistry
from .rooms import Room
from .settings import Settings
from .step_timers import StepTimers
from .store import Store
from .theme_updates import publish_update

if TYPE_CHECKING:
    from nlp.debounce import Debouncer
    from nlp.worker import ThemeWorker

    from .jobs import ThemeJobs
    from .placement import PlacementBatcher
    from .placement_stream import PlacementStream


ROOM_LIST_SECONDS = 1.0


@dataclass
class AppContext:
    settings: Settings
    store: Store
    hub: Hub
    signer: TokenSigner
    worker: ThemeWorker | None = None
    # With external workers: coalesces note changes into theme jobs on the stream.
    job_queue: Debouncer | None = None
    jobs: ThemeJobs | None = None
    # Each new note put in a theme at once, here or by `tablee worker` processes.
    placements: PlacementBatcher | None = None
    # With external workers: where placements wait for them (its depth is a metric).
    placement_stream: PlacementStream | None = None
    presence: PresenceRegistry = field(default_factory=LocalPresence)
    started_at: float = field(default_factory=time.time)
    # Wake-ups for the running agenda steps of the events this process serves.
    timers: StepTimers = field(default_factory=StepTimers)
    # Rooms never change event; caching them spares a read per message.
    _rooms: dict[str, Room] = field(default_factory=dict)
    _seat_counts: Debouncer | None = None
    # Recounts of the open question for the consoles (`answer_handlers.answers_changed`).
    tally_pushes: Debouncer | None = None
    # event id -> (read at, the room list as sent in `hello`)
    _room_lists: dict[str, tuple[float, list[dict[str, Any]]]] = field(default_factory=dict)

    async def room(self, room_id: str) -> Room | None:
        room = self._rooms.get(room_id)
        if room is None:
            room = await self.store.room(room_id)
            if room is not None:
                self._rooms[room_id] = room
        return room

    async def room_list(self, event_id: str) -> list[dict[str, Any]]:
        """The event's rooms for a `hello`, read at most once a second: at an assembly's start
        hundreds connect within a minute, and each read counts every room's members."""
        now = time.monotonic()
        cached = self._room_lists.get(event_id)
        if cached is not None and now - cached[0] < ROOM_LIST_SECONDS:
            return cached[1]
        rooms = [r.to_wire() for r in await self.store.rooms(event_id)]
        self._room_lists[event_id] = (now, rooms)
        return rooms

    async def publish_rooms(self, event_id: str, *, everyone: bool = True) -> None:
        """The room list to everyone (rooms came or went) or, for head counts, to staff only."""
        if everyone:
            self._room_lists.pop(event_id, None)
        rooms = await self.store.rooms(event_id)
        frame = protocol.encode("rooms.updated", {"rooms": [r.to_wire() for r in rooms]})
        channel = event_channel(event_id) if everyone else staff_channel(event_id)
        await self.hub.publish(channel, frame)

    def seats_changed(self, event_id: str) -> None:
        """Someone took a seat. Hundreds arrive within a minute at an assembly's start:
        coalesce, and tell only the consoles, so arrivals do not fan out to everyone."""
        if self._seat_counts is None:
            from nlp.debounce import Debouncer

            async def publish(key: str) -> None:
                await self.publish_rooms(key, everyone=False)

            self._seat_counts = Debouncer(publish, quiet=0.3, max_wait=1.0)
        self._seat_counts.touch(event_id)

    async def forget_event(self, event_id: str) -> None:
        """The event was erased: drop what this process holds of it and anything pending for
        it (head counts, recounts, theme jobs, placements, its step timer, its themes)."""
        self.timers.cancel(event_id)
        self._room_lists.pop(event_id, None)
        for room_id in [r.id for r in self._rooms.values() if r.event_id == event_id]:
            del self._rooms[room_id]
        for pending in (self._seat_counts, self.tally_pushes, self.job_queue):
            if pending is not None:
                pending.forget(event_id)
        if self.placements is not None:
            self.placements.forget(event_id)
        if self.worker is not None:
            await self.worker.forget(event_id)

    async def close(self) -> None:
        if self._seat_counts is not None:
            await self._seat_counts.close()
        if self.tally_pushes is not None:
            await self.tally_pushes.close()

    async def latest_themes_text(self, event_id: str) -> str | None:
        """The event's latest themes as JSON text: the in-process worker's, which may not be
        stored yet (it stores every few seconds), or else the stored ones."""
        if self.worker is not None:
            return await self.worker.latest_text(event_id)
        return await self.store.themes.latest_text(event_id)

    async def latest_themes(self, event_id: str) -> dict[str, Any] | None:
        """The same, decoded."""
        if self.worker is not None:
            return await self.worker.latest(event_id)
        return await self.store.themes.latest(event_id)

    async def publish_themes(self, event_id: str, snapshot: str, diff: str | None) -> None:
        await publish_update(event_id, snapshot, diff, self.hub.heard, self.hub.publish)

    def note_changed(self, event_id: str) -> None:
        if self.worker is not None:
            self.worker.notify(event_id)
        elif self.job_queue is not None:
            self.job_queue.touch(event_id)
