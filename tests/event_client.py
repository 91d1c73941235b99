"""Test helpers for running an event over the wire: a person who follows the agenda and moves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.client import Client, Session, join


@dataclass
class Attendee:
    """One open socket that follows the event: its seat, the agenda, what it was told."""

    client: Client
    room: str | None = None
    agenda: dict[str, Any] = field(default_factory=dict)
    moves: list[dict[str, Any]] = field(default_factory=list)
    frames: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    async def open(cls, ws_url: str, session: Session, join_room: bool = True) -> Attendee:
        client = await Client.open(ws_url, session)
        watched = await client.request("event.watch", {})
        assert watched["type"] == "ack", watched
        me = cls(client, watched["payload"]["participant"]["room_id"])
        me.agenda = watched["payload"]["agenda"]
        if join_room and me.room is not None:
            joined = await client.join_room(me.room)
            assert joined["type"] == "room.joined", joined
        return me

    @property
    def id(self) -> str:
        return str(self.client.session.participant["id"])

    async def request(self, type_: str, payload: dict[str, Any]) -> dict[str, Any]:
        return await self.client.request(type_, payload)

    def _take(self, frame: dict[str, Any]) -> None:
        self.frames.append(frame)
        if frame["type"] == "agenda.state":
            if frame["payload"]["version"] >= self.agenda.get("version", -1):
                self.agenda = frame["payload"]
        elif frame["type"] == "moved":
            self.moves.append(frame["payload"])
            self.room = frame["payload"]["room"]["id"]

    async def until(self, type_: str, timeout: float = 10, **match: Any) -> dict[str, Any]:
        """Read frames in order (keeping seat and agenda current) until one of `type_` matches."""
        while True:
            frame = await self.client.next(timeout=timeout)
            self._take(frame)
            if frame["type"] == type_ and all(
                frame["payload"].get(k) == v for k, v in match.items()
            ):
                return frame

    async def until_step(self, step_id: str, timeout: float = 10) -> dict[str, Any]:
        """Follow the event until `step_id` runs; a move announced before it is applied."""
        while self.agenda.get("current", {}).get("step") != step_id:
            await self.until("agenda.state", timeout)
        return self.agenda

    async def drain(self) -> None:
        """Take whatever already arrived."""
        while not self.client.frames.empty():
            self._take(self.client.frames.get_nowait())

    async def follow_move(self) -> None:
        """After a move: join the new room (the server already left the old one)."""
        assert self.room is not None
        joined = await self.client.join_room(self.room)
        assert joined["type"] == "room.joined", joined

    async def close(self) -> None:
        await self.client.close()


async def seat(
    base_url: str, code: str, name: str, room: str | None = None, role: str = "participant"
) -> Session:
    return await join(base_url, code, name, room_id=room, role=role)
