"""Notes in, themes out: embed what is new, cluster everything, name the clusters."""

from __future__ import annotations

import time
from collections.abc import MutableMapping, Sequence

import numpy as np

from nlp.cluster import Clusterer
from nlp.embed import Embedder
from nlp.geometry import refine
from nlp.steering import Steering
from nlp.themes import NoteInput, Stability, ThemeSet, build_themes

# Cosine to the nearest theme centre from which an unthemed note is read as that theme.
# Chosen on the labelled sets with `tablee themes` (see docs/themes.md).
ATTACH_THRESHOLD = 0.25


class ThemePipeline:
    """Chains an `Embedder`, a `Clusterer` and `build_themes`; does no I/O.

    `timings` holds the last run's seconds per stage: embed, cluster, themes, total.
    """

    def __init__(
        self,
        embedder: Embedder,
        clusterer: Clusterer,
        *,
        embed_batch: int = 256,
        attach_threshold: float | None = ATTACH_THRESHOLD,
        stability: Stability | None = None,
    ) -> None:
        if embed_batch < 1:
            raise ValueError("embed_batch must be at least 1")
        self.embedder = embedder
        self.clusterer = clusterer
        self.attach_threshold = attach_threshold
        self.stability = stability or Stability()
        # Bounds one embed call, so a wall loaded all at once does not hold every text
        # and activation in memory together.
        self.embed_batch = embed_batch
        self.timings: dict[str, float] = {}
        self.embedded = 0  # notes embedded by the last run, i.e. not found in the cache

    def run(
        self,
        notes: Sequence[NoteInput],
        vectors: MutableMapping[str, np.ndarray],
        previous: ThemeSet | None,
        steering: Steering | None = None,
    ) -> ThemeSet:
        """Themes for `notes`, reusing and filling the caller's `vectors` cache.

        The cache is keyed by note id only: when a note's text changes, the caller must
        drop its entry first or the old vector is reused.
        """
        started = time.perf_counter()
        self.embed_missing(notes, vectors)
        embedded = time.perf_counter()

        if notes:
            matrix = np.stack([vectors[n.id] for n in notes]).astype(np.float32, copy=False)
        else:
            matrix = np.zeros((0, 0), dtype=np.float32)
        labels = self.clusterer.fit(matrix)
        if self.attach_threshold is not None and len(notes):
            labels = refine(matrix, labels, self.attach_threshold)
        clustered = time.perf_counter()

        themes = build_themes(
            notes, matrix, labels, previous, steering=steering, stability=self.stability
        )
        done = time.perf_counter()
        self.timings = {
            "embed": embedded - started,
            "cluster": clustered - embedded,
            "themes": done - clustered,
            "total": done - started,
        }
        return themes

    def embed_missing(
        self, notes: Sequence[NoteInput], vectors: MutableMapping[str, np.ndarray]
    ) -> None:
        """Fill `vectors` with the notes it lacks, in bounded batches."""
        missing = list({n.id: n for n in notes if n.id not in vectors}.values())
        for start in range(0, len(missing), self.embed_batch):
            batch = missing[start : start + self.embed_batch]
            rows = self.embedder.embed([n.text for n in batch])
            if rows.shape[0] != len(batch):
                raise ValueError(f"embedder returned {rows.shape[0]} rows for {len(batch)} texts")
            for note, row in zip(batch, rows, strict=True):
                # A copy, so the cache does not keep each whole batch array alive.
                vectors[note.id] = np.array(row, dtype=np.float32)
        self.embedded = len(missing)
