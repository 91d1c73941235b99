"""Who is in which room right now. Pure.

A person may hold several connections (a phone and a laptop, or a tab that reconnected before
the old socket died); they join a room with their first connection and leave it with their
last, so a reconnect does not flicker in the room's member list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Presence:
    _rooms: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    _members: dict[str, dict[str, Any]] = field(default_factory=dict)

    def join(self, room: str, member: dict[str, Any], conn: str) -> dict[str, Any] | None:
        """Record a connection in a room; returns the member if they just arrived."""
        people = self._rooms.setdefault(room, {})
        member_id = str(member["id"])
        self._members[member_id] = member
        conns = people.setdefault(member_id, set())
        arrived = not conns
        conns.add(conn)
        return member if arrived else None

    def leave(self, room: str, member_id: str, conn: str) -> dict[str, Any] | None:
        """Forget a connection; returns the member if that was their last one in the room."""
        people = self._rooms.get(room)
        if people is None or member_id not in people:
            return None
        conns = people[member_id]
        conns.discard(conn)
        if conns:
            return None
        del people[member_id]
        if not people:
            del self._rooms[room]
        return self._members.get(member_id)

    def members(self, room: str) -> list[dict[str, Any]]:
        return [self._members[m] for m in self._rooms.get(room, {})]

    def count(self, room: str) -> int:
        return len(self._rooms.get(room, {}))
