"""The pure rules: seating, who may see, write and change what."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.protocol import ErrorCode, ProtocolError, Role
from server.rooms import (
    JOIN_CODE_ALPHABET,
    Note,
    Participant,
    Room,
    check_can_modify,
    check_can_view,
    check_can_watch_themes,
    check_can_write,
    check_same_post,
    new_join_code,
    normalise_join_code,
    pick_room,
)


def person(role: Role = "participant", room: str | None = "r1", pid: str = "p1") -> Participant:
    return Participant(pid, "e1", "Ana", role, room)


def note(author: str = "p1", room: str = "r1") -> Note:
    now = datetime.now(UTC)
    return Note("n1", room, author, "Ana", "participant", "text", now, now)


R1 = Room("r1", "e1", "Table 1", 8)
R2 = Room("r2", "e1", "Table 2", 8)
OTHER_EVENT = Room("rx", "e2", "Elsewhere", 8)


def code_of(call: object) -> str:
    with pytest.raises(ProtocolError) as info:
        call()  # type: ignore[operator]
    return info.value.code


def test_participants_see_and_write_only_their_room() -> None:
    p = person()
    check_can_view(p, R1)
    check_can_write(p, R1)
    assert code_of(lambda: check_can_view(p, R2)) == ErrorCode.NOT_MEMBER
    assert code_of(lambda: check_can_write(p, R2)) == ErrorCode.NOT_MEMBER


def test_facilitators_see_every_room_of_their_event_only() -> None:
    f = person("facilitator", None)
    check_can_view(f, R1)
    check_can_view(f, R2)
    check_can_write(f, R2)
    assert code_of(lambda: check_can_view(f, OTHER_EVENT)) == ErrorCode.NOT_FOUND


def test_observers_watch_but_never_write() -> None:
    o = person("observer", None)
    check_can_view(o, R1)
    check_can_watch_themes(o)
    assert code_of(lambda: check_can_write(o, R1)) == ErrorCode.FORBIDDEN


def test_only_author_or_facilitator_changes_a_note() -> None:
    check_can_modify(person(pid="p1"), note("p1"))
    check_can_modify(person("facilitator", None, "f"), note("p1"))
    assert code_of(lambda: check_can_modify(person(pid="p2"), note("p1"))) == ErrorCode.FORBIDDEN
    assert code_of(lambda: check_can_watch_themes(person())) == ErrorCode.FORBIDDEN


def test_a_reused_note_id_is_a_conflict() -> None:
    check_same_post(note("p1", "r1"), "r1", "p1")
    assert code_of(lambda: check_same_post(note("p1", "r1"), "r1", "p2")) == ErrorCode.CONFLICT
    assert code_of(lambda: check_same_post(note("p1", "r1"), "r2", "p1")) == ErrorCode.CONFLICT


def test_pick_room_requested_full_and_unknown() -> None:
    full = Room("r1", "e1", "Table 1", 2, members=2)
    assert pick_room([full, R2], "r2").id == "r2"
    assert code_of(lambda: pick_room([full, R2], "r1")) == ErrorCode.ROOM_FULL
    assert code_of(lambda: pick_room([full], None)) == ErrorCode.ROOM_FULL
    assert code_of(lambda: pick_room([R1], "zz")) == ErrorCode.NOT_FOUND


@given(
    st.lists(st.tuples(st.integers(1, 10), st.integers(0, 10)), min_size=1, max_size=12),
    st.integers(0, 60),
)
def test_seating_one_by_one_fills_evenly_and_never_overflows(
    spec: list[tuple[int, int]], arrivals: int
) -> None:
    rooms = [Room(f"r{i}", "e1", f"T{i}", cap, min(m, cap)) for i, (cap, m) in enumerate(spec)]
    for _ in range(arrivals):
        free = [r for r in rooms if r.members < r.capacity]
        if not free:
            with pytest.raises(ProtocolError, match="full"):
                pick_room(rooms, None)
            break
        chosen = pick_room(rooms, None)
        assert chosen.members < chosen.capacity
        least = min(r.members / r.capacity for r in free)
        assert chosen.members / chosen.capacity == least
        rooms = [
            Room(r.id, r.event_id, r.name, r.capacity, r.members + (r.id == chosen.id))
            for r in rooms
        ]
    assert all(r.members <= r.capacity for r in rooms)


def test_join_codes_are_readable_and_normalised() -> None:
    code = new_join_code()
    assert len(code) == 6 and set(code) <= set(JOIN_CODE_ALPHABET)
    assert normalise_join_code(" k7q-2xm ") == "K7Q2XM"
