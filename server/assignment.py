"""Who sits at which table: the seating strategies. Pure; randomness comes from the caller's rng.

Every strategy places each seated person exactly once, never over a table's capacity, keeps
table hosts at their table, and keeps listed groups together. They differ in what they aim for:

- random: each person (or group) takes a random free seat anywhere.
- balanced: tables as even as capacities allow, moving as few people as possible.
- reshuffle: a world café's next round. Hosts stay; everyone else is mixed so that as few pairs
  as possible meet again: a greedy placement, then swaps that lower the repeat count.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

Strategy = Literal["random", "balanced", "reshuffle"]
STRATEGIES: tuple[Strategy, ...] = ("random", "balanced", "reshuffle")
Pair = frozenset[str]

# Staying at the same table without a host still counts as meeting the table again.
STAY_PENALTY = 1
MAX_SWAP_TRIES = 20_000


class AssignmentError(ValueError):
    """The people cannot be seated under these constraints; the message says why."""


@dataclass(frozen=True, slots=True)
class Seat:
    person: str
    room: str | None  # where they sit now
    host: bool = False  # a table host stays at their table


@dataclass(frozen=True, slots=True)
class Table:
    id: str
    capacity: int


@dataclass
class _Unit:
    """People placed together: one person, or a listed group."""

    people: list[str]
    fixed: str | None  # the table a host in the unit pins it to
    was: str | None  # the table most of it sits at now

    @property
    def size(self) -> int:
        return len(self.people)


def pair(a: str, b: str) -> Pair:
    return frozenset((a, b))


def pairs_met(rounds: Iterable[Mapping[str, str]]) -> Counter[Pair]:
    """How often each pair sat at the same table, over rounds given as person -> table."""
    met: Counter[Pair] = Counter()
    for seating in rounds:
        tables: dict[str, list[str]] = {}
        for person, table in seating.items():
            tables.setdefault(table, []).append(person)
        for people in tables.values():
            for a, b in itertools.combinations(sorted(people), 2):
                met[pair(a, b)] += 1
    return met


def repeated_pairs(rounds: Iterable[Mapping[str, str]]) -> int:
    """Pairs that met more than once: what a world café tries to keep at zero."""
    return sum(1 for n in pairs_met(rounds).values() if n > 1)


def assign(
    strategy: Strategy,
    seats: Sequence[Seat],
    tables: Sequence[Table],
    rng: random.Random,
    *,
    groups: Sequence[Sequence[str]] = (),
    met: Mapping[Pair, int] | None = None,
) -> dict[str, str]:
    """Every person's table after applying `strategy`."""
    if not tables:
        raise AssignmentError("there are no tables")
    capacity = {t.id: t.capacity for t in tables}
    units = _units(seats, groups, capacity)
    if sum(u.size for u in units) > sum(capacity.values()):
        raise AssignmentError(
            f"{sum(u.size for u in units)} people but only {sum(capacity.values())} seats"
        )
    if strategy == "random":
        return _random(units, tables, rng)
    if strategy == "balanced":
        return _balanced(units, tables, rng)
    return _reshuffle(units, tables, rng, met or {})


def _units(
    seats: Sequence[Seat], groups: Sequence[Sequence[str]], capacity: Mapping[str, int]
) -> list[_Unit]:
    by_person = {s.person: s for s in seats}
    grouped: set[str] = set()
    units: list[_Unit] = []
    for group in groups:
        members = [p for p in dict.fromkeys(group) if p in by_person and p not in grouped]
        if not members:
            continue
        grouped.update(members)
        units.append(_unit([by_person[p] for p in members]))
    units += [_unit([s]) for s in seats if s.person not in grouped]
    biggest = max(capacity.values())
    for u in units:
        limit = capacity[u.fixed] if u.fixed is not None else biggest
        if u.size > limit:
            raise AssignmentError(f"a group of {u.size} does not fit at any table")
    fixed = Counter[str]()
    for u in units:
        if u.fixed is not None:
            fixed[u.fixed] += u.size
    for table, n in fixed.items():
        if n > capacity[table]:
            raise AssignmentError("more people must stay at a table than it has seats")
    return units


def _unit(seats: list[Seat]) -> _Unit:
    hosts = {s.room for s in seats if s.host and s.room is not None}
    if len(hosts) > 1:
        raise AssignmentError("a group holds hosts of different tables")
    rooms = Counter(s.room for s in seats if s.room is not None)
    was = rooms.most_common(1)[0][0] if rooms else None
    return _Unit([s.person for s in seats], next(iter(hosts), None), was)


def _place_fixed(units: Sequence[_Unit], tables: Sequence[Table]) -> dict[str, list[_Unit]]:
    placed: dict[str, list[_Unit]] = {t.id: [] for t in tables}
    for u in units:
        if u.fixed is not None:
            placed[u.fixed].append(u)
    return placed


def _size(units: Iterable[_Unit]) -> int:
    return sum(u.size for u in units)


def _result(placed: Mapping[str, Sequence[_Unit]]) -> dict[str, str]:
    return {p: table for table, units in placed.items() for u in units for p in u.people}


def _random(units: Sequence[_Unit], tables: Sequence[Table], rng: random.Random) -> dict[str, str]:
    placed = _place_fixed(units, tables)
    free = [u for u in units if u.fixed is None]
    rng.shuffle(free)
    # Largest first, so a group still finds a table with room for all of it.
    free.sort(key=lambda u: -u.size)
    for u in free:
        open_seats = {t.id: t.capacity - _size(placed[t.id]) for t in tables}
        fits = [t for t, n in open_seats.items() if n >= u.size]
        if not fits:
            raise AssignmentError(f"no table has {u.size} free seats left for a group")
        # A uniformly random free seat: tables weighted by how many they have.
        table = rng.choices(fits, weights=[open_seats[t] for t in fits])[0]
        placed[table].append(u)
    return _result(placed)


def even_targets(tables: Sequence[Table], people: int, floor: Mapping[str, int]) -> dict[str, int]:
    """Table sizes as even as capacities allow, each at least its `floor` (people who stay)."""
    target = {t.id: floor.get(t.id, 0) for t in tables}
    capacity = {t.id: t.capacity for t in tables}
    order = {t.id: i for i, t in enumerate(tables)}
    for _ in range(people - sum(target.values())):
        open_tables = [t for t in target if target[t] < capacity[t]]
        if not open_tables:
            raise AssignmentError("not enough seats")
        smallest = min(open_tables, key=lambda t: (target[t], -capacity[t], order[t]))
        target[smallest] += 1
    return target


def _balanced(
    units: Sequence[_Unit], tables: Sequence[Table], rng: random.Random
) -> dict[str, str]:
    placed = _place_fixed(units, tables)
    fixed_sizes = {t: _size(us) for t, us in placed.items()}
    target = even_targets(tables, _size(units), fixed_sizes)
    free = [u for u in units if u.fixed is None]
    rng.shuffle(free)
    movers: list[_Unit] = []
    # Whoever already sits at a table that is not over its target stays there.
    for u in sorted(free, key=lambda u: -u.size):
        if u.was in target and _size(placed[u.was]) + u.size <= target[u.was]:
            placed[u.was].append(u)
        else:
            movers.append(u)
    capacity = {t.id: t.capacity for t in tables}
    for u in movers:
        under = [t for t in target if _size(placed[t]) + u.size <= target[t]]
        if not under:
            # A group larger than any gap: the table with most room, within capacity.
            under = [t for t in target if _size(placed[t]) + u.size <= capacity[t]]
            if not under:
                raise AssignmentError(f"no table has {u.size} free seats left for a group")
            most = max(capacity[t] - _size(placed[t]) for t in under)
            under = [t for t in under if capacity[t] - _size(placed[t]) == most]
        gap = max(target[t] - _size(placed[t]) for t in under)
        best = [t for t in under if target[t] - _size(placed[t]) == gap]
        placed[rng.choice(best)].append(u)
    return _result(placed)


def _cost(u: _Unit, table: str, others: Iterable[_Unit], met: Mapping[Pair, int]) -> int:
    cost = STAY_PENALTY * u.size if u.was == table else 0
    for o in others:
        if o is u:
            continue
        for a in u.people:
            for b in o.people:
                cost += met.get(pair(a, b), 0)
    return cost


def _reshuffle(
    units: Sequence[_Unit], tables: Sequence[Table], rng: random.Random, met: Mapping[Pair, int]
) -> dict[str, str]:
    placed = _place_fixed(units, tables)
    fixed_sizes = {t: _size(us) for t, us in placed.items()}
    target = even_targets(tables, _size(units), fixed_sizes)
    capacity = {t.id: t.capacity for t in tables}
    free = [u for u in units if u.fixed is None]
    rng.shuffle(free)
    free.sort(key=lambda u: -u.size)
    for u in free:
        fits = [t for t in target if _size(placed[t]) + u.size <= target[t]]
        if not fits:
            fits = [t for t in target if _size(placed[t]) + u.size <= capacity[t]]
        if not fits:
            raise AssignmentError(f"no table has {u.size} free seats left for a group")
        costs = {t: _cost(u, t, placed[t], met) for t in fits}
        low = min(costs.values())
        placed[rng.choice([t for t in fits if costs[t] == low])].append(u)
    _improve_by_swaps(placed, rng, met)
    return _result(placed)


def _improve_by_swaps(
    placed: dict[str, list[_Unit]], rng: random.Random, met: Mapping[Pair, int]
) -> None:
    """Swap two movable units of the same size between tables while that lowers the cost."""
    movable = [(t, u) for t, us in placed.items() for u in us if u.fixed is None]
    candidates = [
        (a, b)
        for a, b in itertools.combinations(range(len(movable)), 2)
        if movable[a][0] != movable[b][0] and movable[a][1].size == movable[b][1].size
    ]
    if len(candidates) > MAX_SWAP_TRIES:
        candidates = rng.sample(candidates, MAX_SWAP_TRIES)
    where = {id(u): t for t, u in movable}
    improved = True
    passes = 0
    while improved and passes < 10:
        improved = False
        passes += 1
        rng.shuffle(candidates)
        for ia, ib in candidates:
            ua, ub = movable[ia][1], movable[ib][1]
            ta, tb = where[id(ua)], where[id(ub)]
            if ta == tb:
                continue
            before = _cost(ua, ta, placed[ta], met) + _cost(ub, tb, placed[tb], met)
            rest_a = [o for o in placed[ta] if o is not ua]
            rest_b = [o for o in placed[tb] if o is not ub]
            after = _cost(ua, tb, rest_b, met) + _cost(ub, ta, rest_a, met)
            if after < before:
                placed[ta] = [*rest_a, ub]
                placed[tb] = [*rest_b, ua]
                where[id(ua)], where[id(ub)] = tb, ta
                improved = True
