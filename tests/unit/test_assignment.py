"""Seating strategies: properties that always hold, and how well a world café avoids repeats."""

from __future__ import annotations

import random
import statistics
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.assignment import (
    STRATEGIES,
    AssignmentError,
    Seat,
    Strategy,
    Table,
    assign,
    even_targets,
    pairs_met,
    repeated_pairs,
)


@st.composite
def layouts(draw: st.DrawFn) -> tuple[list[Seat], list[Table], list[list[str]]]:
    """Tables, people already seated (some hosts), newcomers, and a few groups."""
    tables = [Table(f"t{i}", draw(st.integers(1, 9))) for i in range(draw(st.integers(1, 8)))]
    seats: list[Seat] = []
    for t in tables:
        sitting = draw(st.integers(0, t.capacity))
        hosts = draw(st.integers(0, min(1, sitting)))
        seats += [Seat(f"{t.id}p{j}", t.id, host=j < hosts) for j in range(sitting)]
    free = sum(t.capacity for t in tables) - len(seats)
    seats += [Seat(f"new{j}", None) for j in range(draw(st.integers(0, free)))]
    movable = [s.person for s in seats if not s.host]
    groups: list[list[str]] = []
    if movable and draw(st.booleans()):
        size = draw(st.integers(2, 3))
        start = draw(st.integers(0, max(0, len(movable) - size)))
        groups.append(movable[start : start + size])
    return seats, tables, groups


@settings(max_examples=300, deadline=None)
@given(layouts(), st.sampled_from(STRATEGIES), st.integers(0, 2**32))
def test_everyone_is_placed_once_within_capacity_hosts_stay_groups_together(
    layout: tuple[list[Seat], list[Table], list[list[str]]], strategy: Strategy, seed: int
) -> None:
    seats, tables, groups = layout
    try:
        placed = assign(strategy, seats, tables, random.Random(seed), groups=groups)
    except AssignmentError:
        # Only a group that no longer fits anywhere may be refused.
        assert groups
        return
    assert sorted(placed) == sorted(s.person for s in seats)
    load = Counter(placed.values())
    capacity = {t.id: t.capacity for t in tables}
    assert all(load[t] <= capacity[t] for t in load)
    for s in seats:
        if s.host:
            assert placed[s.person] == s.room
    for g in groups:
        assert len({placed[p] for p in g}) == 1


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(1, 10), min_size=1, max_size=10),
    st.integers(0, 100),
    st.integers(0, 2**32),
)
def test_balanced_sizes_differ_by_at_most_one_where_capacity_allows(
    capacities: list[int], people: int, seed: int
) -> None:
    tables = [Table(f"t{i}", c) for i, c in enumerate(capacities)]
    people = min(people, sum(capacities))
    seats = [Seat(f"p{i}", None) for i in range(people)]
    placed = assign("balanced", seats, tables, random.Random(seed))
    load = Counter(placed.values())
    sizes = {t.id: load.get(t.id, 0) for t in tables}
    # A table below the largest is full, or within one of it.
    biggest = max(sizes.values())
    for t in tables:
        assert sizes[t.id] >= biggest - 1 or sizes[t.id] == t.capacity


def test_balanced_moves_as_few_people_as_possible() -> None:
    tables = [Table("a", 6), Table("b", 6), Table("c", 6)]
    seats = [Seat(f"a{i}", "a") for i in range(6)] + [Seat("b0", "b")]
    placed = assign("balanced", seats, tables, random.Random(1))
    assert sorted(Counter(placed.values()).values()) == [2, 2, 3]
    assert sum(1 for s in seats if placed[s.person] != s.room) == 3
    assert placed["b0"] == "b"


def test_impossible_seatings_are_refused_with_a_reason() -> None:
    tables = [Table("a", 2)]
    with pytest.raises(AssignmentError, match="3 people but only 2 seats"):
        assign("random", [Seat(f"p{i}", None) for i in range(3)], tables, random.Random(0))
    with pytest.raises(AssignmentError, match="group of 3"):
        assign(
            "random",
            [Seat(f"p{i}", None) for i in range(3)],
            [Table("a", 2), Table("b", 2)],
            random.Random(0),
            groups=[["p0", "p1", "p2"]],
        )
    with pytest.raises(AssignmentError, match="no tables"):
        assign("balanced", [], [], random.Random(0))
    assert even_targets([Table("a", 3), Table("b", 5)], 6, {"a": 3}) == {"a": 3, "b": 3}


def _world_cafe(
    strategy: Strategy, seed: int, tables: int = 6, per_table: int = 4, rounds: int = 3
) -> int:
    """Repeated pairs over a café: hosts stay, round 1 balanced, then `strategy` each round."""
    rng = random.Random(seed)
    layout = [Table(f"t{i}", per_table) for i in range(tables)]  # full: random is even too
    hosts = [Seat(f"h{i}", f"t{i}", host=True) for i in range(tables)]
    travellers = [f"p{i}" for i in range(tables * (per_table - 1))]
    seats = hosts + [Seat(p, None) for p in travellers]
    history: list[dict[str, str]] = []
    placed = assign("balanced", seats, layout, rng)
    history.append(placed)
    for _ in range(rounds - 1):
        seats = hosts + [Seat(p, placed[p]) for p in travellers]
        placed = assign(strategy, seats, layout, rng, met=pairs_met(history))
        history.append(placed)
        assert all(placed[h.person] == h.room for h in hosts)
    return repeated_pairs(history)


def test_world_cafe_reshuffles_repeat_far_fewer_pairs_than_random(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """24 people (6 hosts, 18 travellers), 6 tables of 4, 3 rounds: reshuffle vs random."""
    seeds = range(30)
    ours = [_world_cafe("reshuffle", s) for s in seeds]
    baseline = [_world_cafe("random", s) for s in seeds]
    with capsys.disabled():
        print(
            f"\nworld café, 24 people, 6 tables, 3 rounds, {len(seeds)} runs: repeated pairs "
            f"reshuffle mean {statistics.mean(ours):.2f} (max {max(ours)}), "
            f"random mean {statistics.mean(baseline):.2f} (max {max(baseline)})"
        )
    assert statistics.mean(ours) <= 0.5
    assert statistics.mean(baseline) >= 5 * max(statistics.mean(ours), 0.5)


def test_reshuffling_a_large_event_stays_quick() -> None:
    import time

    tables = [Table(f"t{i}", 8) for i in range(60)]
    seats = [Seat(f"p{i}", f"t{i % 60}", host=i < 60) for i in range(420)]
    first = {s.person: str(s.room) for s in seats}
    started = time.perf_counter()
    placed = assign("reshuffle", seats, tables, random.Random(3), met=pairs_met([first]))
    assert time.perf_counter() - started < 10
    assert repeated_pairs([first, placed]) < repeated_pairs([first, first]) // 10
