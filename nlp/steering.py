"""Facilitator edits to themes, kept as constraints that every re-clustering obeys.

Pure. Edits are stored in order; `fold` reduces them to a `Steering`, and `apply` bends
a fresh clustering to it:

- rename: the theme keeps the facilitator's label whatever its keywords become;
- move / pin: a note stays in the named theme (or unthemed);
- merge: every note of both themes is pinned to the kept one;
- split: each part's notes are pinned to a theme of its own;
- hide / show: the theme stays computed but is flagged hidden for the board.

A cluster most of whose notes are pinned follows its pins, so the notes that arrive
later join the theme the facilitator made instead of growing a rival one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from nlp.geometry import unit_rows

UNTHEMED = ""  # a pin target: the note stays out of every theme
KINDS = frozenset({"rename", "move", "pin", "merge", "split", "hide", "show"})


@dataclass(frozen=True)
class Edit:
    kind: str
    theme_id: str = ""  # the theme acted on; for merge, the one kept
    other_id: str = ""  # merge: the theme absorbed
    label: str = ""  # rename
    note_ids: tuple[str, ...] = ()  # move/pin: one note; merge: all; split: flattened parts
    parts: tuple[tuple[str, tuple[str, ...]], ...] = ()  # split: (new theme id, its notes)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown edit {self.kind!r}")


@dataclass(frozen=True)
class Steering:
    pins: Mapping[str, str] = field(default_factory=dict)  # note id -> theme id or UNTHEMED
    names: Mapping[str, str] = field(default_factory=dict)
    hidden: frozenset[str] = frozenset()
    origins: Mapping[str, str] = field(default_factory=dict)  # split part -> theme split

    @property
    def empty(self) -> bool:
        return not (self.pins or self.names or self.hidden)


def fold(edits: Iterable[Edit]) -> Steering:
    """The constraints the edits add up to, later edits winning."""
    pins: dict[str, str] = {}
    names: dict[str, str] = {}
    hidden: set[str] = set()
    origins: dict[str, str] = {}
    for edit in edits:
        if edit.kind == "rename":
            names[edit.theme_id] = edit.label
        elif edit.kind in ("move", "pin"):
            for note_id in edit.note_ids:
                pins[note_id] = edit.theme_id
        elif edit.kind == "merge":
            for note_id, target in list(pins.items()):
                if target == edit.other_id:
                    pins[note_id] = edit.theme_id
            for note_id in edit.note_ids:
                pins[note_id] = edit.theme_id
            names.pop(edit.other_id, None)
            hidden.discard(edit.other_id)
        elif edit.kind == "split":
            for part_id, note_ids in edit.parts:
                origins[part_id] = edit.theme_id
                for note_id in note_ids:
                    # The parts were cut from the themes as last shown; a note moved out
                    # of the theme since then stays where the facilitator put it.
                    if pins.get(note_id, edit.theme_id) == edit.theme_id:
                        pins[note_id] = part_id
        elif edit.kind == "hide":
            hidden.add(edit.theme_id)
        elif edit.kind == "show":
            hidden.discard(edit.theme_id)
    return Steering(pins=pins, names=names, hidden=frozenset(hidden), origins=origins)


def apply(
    ids: Sequence[str],
    vectors: np.ndarray,
    theme_of: Mapping[str, str | None],
    steering: Steering,
    previous: Mapping[str, str] | None = None,
) -> dict[str, str | None]:
    """`theme_of` bent to the pins of `steering`.

    Pinned notes go where they are pinned. A group (notes sharing a theme) in which more
    than half the notes lean to pinned themes follows them: each unpinned note joins the
    nearest, by centre, of those themes. A note leans to the theme it is pinned to or, if
    unpinned, to the pinned theme it was in last run (`previous`: note id -> theme id):
    a merged theme soon holds more new notes than pinned ones, and must still hold them
    when a re-clustering cuts it where the facilitator joined it.
    """
    pins = {n: t for n, t in steering.pins.items() if n in theme_of}
    if not pins:
        return dict(theme_of)
    row_of = {note_id: k for k, note_id in enumerate(ids)}
    groups: dict[str | None, list[str]] = {}
    for note_id, theme_id in theme_of.items():
        groups.setdefault(theme_id, []).append(note_id)

    by_target: dict[str, list[int]] = {}
    for note_id, target in pins.items():
        if target != UNTHEMED:
            by_target.setdefault(target, []).append(row_of[note_id])
    centres = {
        t: unit_rows(vectors[rows].astype(np.float64).mean(axis=0)[None, :])[0]
        for t, rows in by_target.items()
    }

    was = previous or {}
    leans = {n: t for n, t in was.items() if t in by_target}
    leans.update(pins)
    result: dict[str, str | None] = {}
    for theme_id, members in groups.items():
        pinned = Counter(leans[m] for m in members if m in leans)
        targets = [t for t in pinned if t != UNTHEMED]
        follows = theme_id is not None and targets and 2 * sum(pinned.values()) > len(members)
        for note_id in members:
            if note_id in pins:
                target = pins[note_id]
                result[note_id] = None if target == UNTHEMED else target
            elif follows:
                v = vectors[row_of[note_id]].astype(np.float64)
                result[note_id] = max(targets, key=lambda t: (float(v @ centres[t]), t))
            else:
                result[note_id] = theme_id
    return result
