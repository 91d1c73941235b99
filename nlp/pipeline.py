"""Notes in, themes out: embed what is new, cluster everything, name the clusters."""

from __future__ import annotations

import time
from collections.abc import MutableMapping, Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from nlp.cluster import Clusterer, scaled_min_cluster_size
from nlp.embed import Embedder
from nlp.geometry import refine
from nlp.lexical import LEXICAL_WEIGHT, blend
from nlp.regroup import SAMPLE, SilhouetteJudge, merge_twins, split_broad
from nlp.steering import Steering
from nlp.themes import NoteInput, Stability, ThemeSet, build_themes

# Cosine to the nearest theme centre from which an unthemed note is read as that theme.
# Chosen on the labelled sets with `tablee themes` (see docs/themes.md).
ATTACH_THRESHOLD = 0.25
# With splitting on (`split_factor`), a theme is split only into parts of at least this
# many times the smallest theme. Off by default: see `straighten`.
SPLIT_FACTOR = 2.0
# Cosine between two theme centres from which they are one theme.
MERGE_THRESHOLD = 0.75
# Lloyd's rounds in each `refine`. With splitting on, 10 stopped short of convergence on
# 20,000 biomedical titles (NMI 0.404 against 0.430 with 40); without, 40 changed nothing
# on the three labelled sets (+0.001 NMI at most).
REFINE_ROUNDS = 10
# Splitting is tried again on the parts while the silhouette keeps rising.
SPLIT_ROUNDS = 3
# Below this many notes themes are not split: a silhouette of a few notes says little.
REGROUP_MIN_NOTES = 200


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
        split_factor: float | None = None,
        merge_threshold: float | None = MERGE_THRESHOLD,
        refine_rounds: int = REFINE_ROUNDS,
        lexical_weight: float | None = LEXICAL_WEIGHT,
        stability: Stability | None = None,
    ) -> None:
        if embed_batch < 1:
            raise ValueError("embed_batch must be at least 1")
        self.embedder = embedder
        self.clusterer = clusterer
        self.attach_threshold = attach_threshold
        self.split_factor = split_factor
        self.merge_threshold = merge_threshold
        self.refine_rounds = refine_rounds
        self.lexical_weight = lexical_weight
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
        # One BLAS thread: the worker shares two cores with the server, and OpenBLAS
        # threads contending for a busy core made a 384 x 384 eigendecomposition take
        # 2.3 s instead of 0.02 s.
        with threadpool_limits(1):
            # Themes are found where shared words count too (`nlp.lexical`); everything
            # shown of them (centres, map, distinctness, who moves) stays in the model's space.
            space = matrix
            if self.lexical_weight and len(notes):
                space = blend(matrix, [n.text for n in notes], self.lexical_weight)
            labels = self.clusterer.fit(space)
            if self.attach_threshold is not None and len(notes):
                twins = None if space is matrix else matrix
                labels = self.straighten(space, labels, self.attach_threshold, twins=twins)
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

    def straighten(
        self,
        matrix: np.ndarray,
        labels: np.ndarray,
        threshold: float,
        twins: np.ndarray | None = None,
    ) -> np.ndarray:
        """HDBSCAN's themes with straight borders, near-twins merged (broad ones split).

        Twins are judged on `twins` (the model's vectors; `matrix` when None): two themes
        the model cannot tell apart are one, whatever words they use.

        Each step is followed by `refine`, so the next one sees themes as they settle.
        Splitting (`split_factor`, e.g. `SPLIT_FACTOR`, best with `refine_rounds=40`)
        raised NMI on biomedical titles (5,000: 0.385 to 0.442; 20,000: 0.323 to 0.430;
        k-means with the true k: 0.437, 0.444), but whether the silhouette rises can flip
        as notes arrive, and then many notes change theme (churn 15-17% there). Hence off
        by default.
        """
        rounds = self.refine_rounds
        labels = refine(matrix, labels, threshold, rounds, gate=twins)
        if self.split_factor is not None and len(matrix) >= REGROUP_MIN_NOTES:
            smallest = scaled_min_cluster_size(min(len(matrix), SAMPLE))
            parts = max(3, round(self.split_factor * smallest))
            judge = SilhouetteJudge(matrix)
            score = judge(labels)
            for _ in range(SPLIT_ROUNDS):
                split = split_broad(matrix, labels, parts)
                candidate = refine(matrix, split, threshold, rounds, gate=twins)
                candidate_score = judge(candidate)
                # Only a rise: letting it fall by 2% kept the right splits of biomedical
                # titles at 20,000 notes but not at 18,000, and a decision that flips as
                # notes arrive renames a fifth of the themes (churn 18%).
                if candidate_score <= score:
                    break
                labels, score = candidate, candidate_score
        if self.merge_threshold is not None:
            merged = merge_twins(matrix if twins is None else twins, labels, self.merge_threshold)
            labels = refine(matrix, merged, threshold, rounds, gate=twins)
        return labels

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
