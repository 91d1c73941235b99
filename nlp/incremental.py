"""Placing one new note without re-clustering: its theme, its map point, its near twins.

Pure. A note joins the theme whose centre is nearest when that is at least as close as
the pipeline's attach threshold, the same rule that attaches HDBSCAN's leftovers, so the
next full re-clustering mostly agrees with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from nlp.geometry import most_similar, unit_rows
from nlp.themes import NoteInput, ThemeSet

SIMILAR_THRESHOLD = 0.85  # cosine above which a note reads as the same idea (MiniLM)
SIMILAR_LIMIT = 3
# A cache that no run filled (a `tablee worker` placing another worker's event) embeds this
# many notes of each theme for its centre before the newest notes: enough for a centre
# within a few hundredths of cosine of the full one on 30-note themes.
WARM_PER_THEME = 12


@dataclass(frozen=True)
class Centres:
    """Theme centres of the last full run, to place notes until the next one."""

    theme_ids: tuple[str, ...]
    matrix: np.ndarray  # one unit row per theme

    @classmethod
    def of(cls, themes: ThemeSet, vectors: Mapping[str, np.ndarray]) -> Centres:
        ids: list[str] = []
        rows: list[np.ndarray] = []
        for theme in themes.themes:
            members = [vectors[n] for n in theme.note_ids if n in vectors]
            if members and not theme.hidden:
                ids.append(theme.id)
                rows.append(np.mean(np.stack(members).astype(np.float64), axis=0))
        matrix = unit_rows(np.stack(rows)) if rows else np.zeros((0, 0))
        return cls(tuple(ids), matrix)


@dataclass(frozen=True)
class Placement:
    note_id: str
    theme_id: str | None
    score: float  # cosine to the theme's centre (or to the nearest one when unthemed)
    similar: tuple[tuple[str, float], ...]  # (note id, cosine), closest first
    xy: tuple[float, float] | None

    def to_payload(self) -> dict[str, object]:
        return {
            "note": self.note_id,
            "theme": self.theme_id,
            "score": round(self.score, 3),
            "xy": None if self.xy is None else [round(self.xy[0], 3), round(self.xy[1], 3)],
        }


def place(
    note_id: str,
    vector: np.ndarray,
    centres: Centres,
    others: Sequence[str],
    other_vectors: np.ndarray,
    coords: Mapping[str, tuple[float, float]],
    *,
    attach_threshold: float,
    similar_threshold: float = SIMILAR_THRESHOLD,
) -> Placement:
    """Where `note_id` goes; `others` (rows of `other_vectors`) are the notes already there."""
    theme_id: str | None = None
    score = 0.0
    if centres.theme_ids:
        scores = centres.matrix @ vector.astype(np.float64)
        best = int(scores.argmax())
        score = float(scores[best])
        if score >= attach_threshold:
            theme_id = centres.theme_ids[best]
    near = most_similar(vector, other_vectors, threshold=-1.0, limit=8)
    similar = tuple(
        (others[k], s) for k, s in near if s >= similar_threshold and others[k] != note_id
    )[:SIMILAR_LIMIT]
    # Beside its nearest neighbour on the map: the map itself is redrawn by the next run.
    xy = next((coords[others[k]] for k, _ in near if others[k] in coords), None)
    return Placement(note_id, theme_id, score, similar, xy)


def warm_sample(
    notes: Sequence[NoteInput],
    themes: ThemeSet | None,
    *,
    limit: int,
    per_theme: int = WARM_PER_THEME,
) -> list[NoteInput]:
    """The notes a cold cache embeds first, at most `limit`: a few of every theme (its
    representatives first), so that each theme has a centre, then the newest notes, where
    a new note's twin most likely is."""
    by_id = {n.id: n for n in notes}
    chosen: dict[str, NoteInput] = {}
    for theme in themes.themes if themes is not None else ():
        members = [*theme.representative_ids, *theme.note_ids]
        picked = [by_id[m] for m in dict.fromkeys(members) if m in by_id][:per_theme]
        chosen.update((n.id, n) for n in picked)
    for note in sorted(notes, key=lambda n: n.created_at, reverse=True):
        if len(chosen) >= limit:
            break
        chosen.setdefault(note.id, note)
    return list(chosen.values())[:limit]


def split_groups(vectors: np.ndarray, seed: int = 0) -> np.ndarray:
    """Two groups for a theme the facilitator splits: k-means, seeded, on its notes.

    A facilitator who splits asks for two parts; HDBSCAN already judged these notes one
    dense region and would not cut it again.
    """
    from sklearn.cluster import KMeans

    if len(vectors) < 2:
        return np.zeros(len(vectors), dtype=np.int64)
    labels = KMeans(n_clusters=2, n_init=4, random_state=seed).fit_predict(vectors)
    return np.asarray(labels, dtype=np.int64)
