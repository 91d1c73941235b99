"""Keeping a theme's identity across re-clusterings, and recording splits and merges.

Pure. Three steps, run in this order on every re-clustering:

1. `assign_ids`: each new cluster takes the id of the previous theme it shares most notes
   with (a strict majority of one side), else a fresh id.
2. `settle`: a note that was already themed keeps its theme unless the new one is clearly
   closer. HDBSCAN is re-run on a wall that grew; notes on the border of two dense regions
   flip between them from one run to the next, and the facilitator sees that as noise.
3. `lineage`: new themes born from an old one ("split from") and old themes absorbed by
   another ("merged into"), for the board to show.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from nlp.geometry import unit_rows


def fresh_id(note_ids: Sequence[str]) -> str:
    """An id that depends only on which notes a theme holds, so reruns agree."""
    digest = hashlib.blake2b("\x1f".join(sorted(note_ids)).encode("utf-8"), digest_size=16)
    return "t-" + digest.hexdigest()[:8]


def assign_ids(
    clusters: list[list[str]], current: set[str], previous: Mapping[str, Sequence[str]]
) -> list[str]:
    """Carry each previous theme's id to the new cluster that holds most of its notes.

    `previous` maps old theme ids to their notes. Pairs are taken greedily by overlap,
    each old id at most once. A pair counts only if the shared notes are a strict majority
    of the new cluster or of the old theme: a theme that grows keeps its id, a theme that
    splits leaves its id to the larger part, and two merging themes leave one id. The old
    theme's size counts only its notes still present, so deleting notes does not orphan
    the rest. Unmatched clusters get `fresh_id`.
    """
    result: list[str | None] = [None] * len(clusters)
    taken: set[str] = set()
    owner = {note_id: k for k, cluster in enumerate(clusters) for note_id in cluster}
    pairs: list[tuple[int, str, int, str]] = []
    for theme_id, note_ids in previous.items():
        old_size = sum(1 for i in note_ids if i in current)
        overlaps = Counter(owner[i] for i in note_ids if i in owner)
        for k, overlap in overlaps.items():
            if 2 * overlap > len(clusters[k]) or 2 * overlap > old_size:
                # Ties go by the cluster's first note id, not its label number, so
                # relabelling the same partition cannot change the ids.
                pairs.append((-overlap, min(clusters[k]), k, theme_id))
    for *_, k, theme_id in sorted(pairs):
        if result[k] is None and theme_id not in taken:
            result[k] = theme_id
            taken.add(theme_id)
    for k, cluster in enumerate(clusters):
        if result[k] is None:
            result[k] = unused_id(cluster, taken)
            taken.add(result[k] or "")
    return [theme_id for theme_id in result if theme_id is not None]


def unused_id(note_ids: Sequence[str], taken: set[str]) -> str:
    candidate = fresh_id(note_ids)
    salt = 0
    while candidate in taken:
        salt += 1
        candidate = fresh_id([*note_ids, f"\x00{salt}"])
    return candidate


def _centres(
    vectors: np.ndarray, row_of: Mapping[str, int], groups: Mapping[str, list[str]]
) -> dict[str, np.ndarray]:
    out = {}
    for theme_id, members in groups.items():
        rows = [row_of[m] for m in members if m in row_of]
        if rows:
            out[theme_id] = unit_rows(vectors[rows].astype(np.float64).mean(axis=0)[None, :])[0]
    return out


def settle(
    ids: Sequence[str],
    vectors: np.ndarray,
    theme_of: Mapping[str, str | None],
    previous: Mapping[str, Sequence[str]],
    *,
    margin: float,
    keep: float,
    min_size: int,
) -> dict[str, str | None]:
    """`theme_of` after letting already-themed notes stay where they were.

    A note moves from its previous theme only when its new theme's centre is more than
    `margin` closer in cosine than its old theme's centre (both over the current notes);
    a note the new clustering left unthemed stays in its old theme while within `keep` of
    it. An old theme the clustering dissolved comes back when at least `min_size` of its
    notes would stay by that rule.
    """
    row_of = {note_id: k for k, note_id in enumerate(ids)}
    groups: dict[str, list[str]] = {}
    for note_id, theme_id in theme_of.items():
        if theme_id is not None:
            groups.setdefault(theme_id, []).append(note_id)
    centres = _centres(vectors, row_of, groups)
    old_centres = _centres(vectors, row_of, {k: list(v) for k, v in previous.items()})
    result = dict(theme_of)

    def stays(note_id: str, old: str) -> bool:
        v = vectors[row_of[note_id]].astype(np.float64)
        to_old = float(v @ old_centres[old])
        now = theme_of.get(note_id)
        if now is None:
            return to_old >= keep
        return to_old >= float(v @ centres[now]) - margin

    for old, note_ids in previous.items():
        if old not in old_centres:
            continue
        movers = [i for i in note_ids if i in row_of and theme_of.get(i) != old and stays(i, old)]
        if old in groups or len(movers) >= min_size:
            for i in movers:
                result[i] = old
    return result


@dataclass(frozen=True)
class LineageEvent:
    version: int
    kind: str  # "split" (theme born from `other`) or "merge" (`other` absorbed into theme)
    theme_id: str
    other_id: str

    def to_payload(self) -> dict[str, object]:
        return {
            "version": self.version,
            "kind": self.kind,
            "theme": self.theme_id,
            "other": self.other_id,
        }


def lineage(
    version: int,
    current: Mapping[str, Sequence[str]],
    previous: Mapping[str, Sequence[str]],
    *,
    min_share: float = 0.5,
) -> list[LineageEvent]:
    """Splits and merges between two runs.

    A new theme holding at least `min_share` of its notes from an old theme that lives on
    under its id was split from it; an old theme gone whose notes are now mostly in one
    theme was merged into it. Themes born from unthemed notes have no lineage.
    """
    events: list[LineageEvent] = []
    theme_now = {n: t for t, notes in current.items() for n in notes}
    was = {n: t for t, notes in previous.items() for n in notes}
    for theme_id in sorted(set(current) - set(previous)):
        sources = Counter(was[n] for n in current[theme_id] if n in was)
        if sources:
            source, count = sources.most_common(1)[0]
            if source in current and count >= min_share * len(current[theme_id]):
                events.append(LineageEvent(version, "split", theme_id, source))
    for theme_id in sorted(set(previous) - set(current)):
        targets = Counter(theme_now[n] for n in previous[theme_id] if n in theme_now)
        if targets:
            target, count = targets.most_common(1)[0]
            if count > 0.5 * len(previous[theme_id]):
                events.append(LineageEvent(version, "merge", target, theme_id))
    return events
