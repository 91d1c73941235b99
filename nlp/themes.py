"""From notes, their vectors and cluster labels to the themes a facilitator sees.

Pure: no model, no I/O. `build_themes` turns one clustering into a `ThemeSet`: ids carried
over from the previous run (`nlp.identity`), the facilitator's edits obeyed
(`nlp.steering`), labels by class-based TF-IDF (`nlp.labels`), the most representative
notes, where each theme came from and how it grew, unthemed notes ranked as unique ideas,
and a 2-D map that stays put between runs (`nlp.geometry`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nlp.cluster import scaled_min_cluster_size
from nlp.geometry import distinctness, map_coordinates, unit_rows
from nlp.identity import LineageEvent, assign_ids, fresh_id, lineage, settle
from nlp.labels import UNTITLED, keywords_by_class, label_from
from nlp.steering import Steering, apply
from nlp.text import words

__all__ = [
    "UNTITLED",
    "NoteInput",
    "Theme",
    "ThemeSet",
    "build_themes",
    "fresh_id",
]

REPRESENTATIVES_PER_THEME = 3
# A map point, or a unique idea's distinctness, that moved less than this since the last
# run stays where it was: the board does not jitter, and an update's diff
# (`nlp.theme_diff`) carries only what visibly changed. The map spans [-1, 1].
MAP_STILL = 0.01
DISTINCT_STILL = 0.01
GROWTH_POINTS = 12
LINEAGE_KEPT = 50
LABEL_SAMPLE = 200


@dataclass(frozen=True)
class NoteInput:
    id: str
    text: str
    room_id: str
    created_at: float = 0.0  # seconds since the epoch; 0 when unknown
    step_id: str | None = None  # the agenda step it was written in; None before any


@dataclass(frozen=True)
class Theme:
    id: str
    label: str
    keywords: tuple[str, ...]
    note_ids: tuple[str, ...]
    representative_ids: tuple[str, ...]
    rooms: tuple[tuple[str, int], ...]  # (room id, notes from it), most first
    steps: tuple[tuple[str, int], ...] = ()  # (agenda step id, notes written in it), most first
    renamed: bool = False
    hidden: bool = False
    split_from: str | None = None
    recent: int = 0  # notes created within the trend window
    growth: tuple[int, ...] = ()  # notes held at evenly spaced times, last one now

    @property
    def size(self) -> int:
        return len(self.note_ids)


def _note_payload(note: NoteInput) -> dict[str, str]:
    return {"id": note.id, "text": note.text, "room_id": note.room_id}


@dataclass(frozen=True)
class ThemeSet:
    version: int
    themes: tuple[Theme, ...]  # largest first
    unthemed_ids: tuple[str, ...]  # most distinct first
    distinct: Mapping[str, float] = field(default_factory=dict)
    coords: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    lineage: tuple[LineageEvent, ...] = ()

    @property
    def n_notes(self) -> int:
        return sum(t.size for t in self.themes) + len(self.unthemed_ids)

    def theme_of(self) -> dict[str, str]:
        return {n: t.id for t in self.themes for n in t.note_ids}

    def members(self) -> dict[str, tuple[str, ...]]:
        return {t.id: t.note_ids for t in self.themes}

    def to_payload(self, notes: Mapping[str, NoteInput]) -> dict[str, Any]:
        """The JSON-ready message for facilitators; `notes` supplies texts and rooms."""
        rooms_with_notes = len({n.room_id for n in notes.values()})
        return {
            "version": self.version,
            "n_notes": self.n_notes,
            "n_rooms": rooms_with_notes,
            "themes": [
                {
                    "id": t.id,
                    "label": t.label,
                    "keywords": list(t.keywords),
                    "size": t.size,
                    "note_ids": list(t.note_ids),
                    "representatives": [_note_payload(notes[i]) for i in t.representative_ids],
                    "rooms": [{"id": room, "count": count} for room, count in t.rooms],
                    "steps": [{"id": step, "count": count} for step, count in t.steps],
                    "single_room": len(t.rooms) == 1 and rooms_with_notes > 1,
                    "renamed": t.renamed,
                    "hidden": t.hidden,
                    "split_from": t.split_from,
                    "recent": t.recent,
                    "growth": list(t.growth),
                }
                for t in self.themes
            ],
            "unthemed": [
                {**_note_payload(notes[i]), "distinctness": round(self.distinct.get(i, 0.0), 3)}
                for i in self.unthemed_ids
            ],
            "map": {i: [round(x, 3), round(y, 3)] for i, (x, y) in self.coords.items()},
            "lineage": [e.to_payload() for e in self.lineage],
        }


@dataclass(frozen=True)
class Stability:
    """How strongly already-themed notes hold on to their theme (see `identity.settle`)."""

    margin: float = 0.1
    keep: float = 0.45
    trend_seconds: float = 300.0


def build_themes(
    notes: Sequence[NoteInput],
    vectors: np.ndarray,
    labels: np.ndarray,
    previous: ThemeSet | None,
    *,
    steering: Steering | None = None,
    stability: Stability | None = None,
    now: float | None = None,
) -> ThemeSet:
    """Themes for `notes`, whose rows in `vectors` and `labels` are in the same order.

    A negative label is noise: the note is listed as unthemed, never dropped. Ids carry
    over from `previous`; themes come largest first.
    """
    n = len(notes)
    if len(vectors) != n or len(labels) != n:
        raise ValueError(f"{n} notes but {len(vectors)} vectors and {len(labels)} labels")
    ids = [note.id for note in notes]
    if len(set(ids)) != n:
        raise ValueError("note ids must be unique")
    stability = stability or Stability()
    steering = steering or Steering()

    members: dict[int, list[str]] = {}
    for row, label in enumerate(labels.tolist()):
        if label >= 0:
            members.setdefault(int(label), []).append(ids[row])
    clusters = [members[k] for k in sorted(members)]
    before = previous.members() if previous is not None else {}
    theme_ids = assign_ids(clusters, set(ids), before)
    theme_of: dict[str, str | None] = dict.fromkeys(ids)
    for cluster, theme_id in zip(clusters, theme_ids, strict=True):
        for note_id in cluster:
            theme_of[note_id] = theme_id
    if before:
        # A dissolved theme comes back with as many notes as a theme needs on this wall.
        # The smallest theme's size alone was the bar, and on a large wall that is
        # hundreds: at 18,000 stackoverflow titles a theme of 807 notes was absorbed by its
        # neighbour with 770 of them still closer to it (the bar: 782), came back under a
        # new id a run later, and 1,600 notes changed theme over eight updates instead of
        # 145 (docs/themes.md).
        smallest = min((len(c) for c in clusters), default=3)
        theme_of = settle(
            ids,
            vectors,
            theme_of,
            before,
            margin=stability.margin,
            keep=stability.keep,
            min_size=max(3, min(smallest, scaled_min_cluster_size(n))),
        )
    theme_of = apply(
        ids, vectors, theme_of, steering, previous.theme_of() if previous is not None else None
    )

    version = 1 if previous is None else previous.version + 1
    row_of = {note_id: k for k, note_id in enumerate(ids)}
    grouped: dict[str, list[int]] = {}
    unthemed_rows: list[int] = []
    for note_id in ids:
        placed = theme_of[note_id]
        if placed is None:
            unthemed_rows.append(row_of[note_id])
        else:
            grouped.setdefault(placed, []).append(row_of[note_id])
    order = sorted(grouped, key=lambda t: (min(ids[r] for r in grouped[t]), t))
    rows_of = [grouped[t] for t in order]

    tokens = [words(note.text) for note in notes]
    central = [_by_centrality(rows, vectors) for rows in rows_of]
    keywords = keywords_by_class(central, unthemed_rows, tokens)
    clock = now if now is not None else max((note.created_at for note in notes), default=0.0)
    times = [note.created_at for note in notes]
    old_split = {t.id: t.split_from for t in previous.themes} if previous is not None else {}
    current = {t: [ids[r] for r in grouped[t]] for t in order}
    events = lineage(version, current, before) if before else []
    born_from = {e.theme_id: e.other_id for e in events if e.kind == "split"}

    themes = []
    for theme_id, rows, near, kw in zip(order, rows_of, central, keywords, strict=True):
        named = steering.names.get(theme_id)
        themes.append(
            Theme(
                id=theme_id,
                # Phrases from the most central notes: the same words on large themes, and
                # a 20,000-note event need not scan every note twice.
                label=named or label_from(kw, [notes[r].text for r in near[:LABEL_SAMPLE]]),
                keywords=kw,
                note_ids=tuple(ids[r] for r in rows),
                representative_ids=tuple(ids[r] for r in near[:REPRESENTATIVES_PER_THEME]),
                rooms=_tally([notes[r].room_id for r in rows]),
                steps=_tally([s for r in rows if (s := notes[r].step_id) is not None]),
                renamed=named is not None,
                hidden=theme_id in steering.hidden,
                split_from=steering.origins.get(theme_id)
                or born_from.get(theme_id)
                or old_split.get(theme_id),
                recent=_recent([times[r] for r in rows], clock, stability.trend_seconds),
                growth=_growth([times[r] for r in rows], min(times, default=0.0), clock),
            )
        )
    themes.sort(key=lambda t: (-t.size, t.id))

    if grouped:
        centres = unit_rows(
            np.stack([vectors[rows].astype(np.float64).mean(axis=0) for rows in rows_of])
        )
    else:
        centres = np.zeros((0, vectors.shape[1] if vectors.ndim == 2 else 0))
    scores = distinctness(vectors, unthemed_rows, centres).tolist()
    if previous is not None:
        scores = [
            _held(previous.distinct.get(ids[r]), s, DISTINCT_STILL)
            for r, s in zip(unthemed_rows, scores, strict=True)
        ]
    # By the score as shown (three decimals), so a client re-sorting what it holds after
    # a diff gets the same order (`theme_diff.unthemed_order`).
    ranked = sorted(
        zip(unthemed_rows, scores, strict=True), key=lambda p: (-round(p[1], 3), ids[p[0]])
    )
    old_coords = previous.coords if previous is not None else {}
    coords = map_coordinates(vectors, ids, old_coords)
    kept = (*(previous.lineage if previous is not None else ()), *events)[-LINEAGE_KEPT:]
    return ThemeSet(
        version=version,
        themes=tuple(themes),
        unthemed_ids=tuple(ids[r] for r, _ in ranked),
        distinct={ids[r]: s for r, s in ranked},
        coords={
            n: _held_point(old_coords.get(n), (float(x), float(y)))
            for n, (x, y) in zip(ids, coords.tolist(), strict=True)
        },
        lineage=kept,
    )


def _held(before: float | None, now: float, still: float) -> float:
    return before if before is not None and abs(now - before) < still else now


def _held_point(
    before: tuple[float, float] | None, now: tuple[float, float]
) -> tuple[float, float]:
    if before is not None and max(abs(now[0] - before[0]), abs(now[1] - before[1])) < MAP_STILL:
        return before
    return now


def _recent(times: list[float], now: float, window: float) -> int:
    if now <= 0:
        return 0
    return sum(1 for t in times if t > 0 and now - t <= window)


def _growth(times: list[float], start: float, now: float) -> tuple[int, ...]:
    """How many of the theme's notes existed at `GROWTH_POINTS` evenly spaced times."""
    if now <= 0 or start <= 0 or now <= start:
        return ()
    step = (now - start) / (GROWTH_POINTS - 1)
    ordered = sorted(times)
    counts = []
    for k in range(GROWTH_POINTS):
        moment = start + k * step
        counts.append(int(np.searchsorted(ordered, moment + 1e-9, side="right")))
    return tuple(counts)


def _by_centrality(rows: list[int], vectors: np.ndarray) -> list[int]:
    """`rows`, closest in cosine to the cluster's mean direction first."""
    block = vectors[rows].astype(np.float64)
    similarity = block @ block.mean(axis=0)
    # Stable sort: equally close notes keep their input order, so output is reproducible.
    return [rows[i] for i in np.argsort(-similarity, kind="stable").tolist()]


def _tally(ids: list[str]) -> tuple[tuple[str, int], ...]:
    """(id, count) of rooms or steps, most notes first."""
    return tuple(sorted(Counter(ids).items(), key=lambda item: (-item[1], item[0])))
