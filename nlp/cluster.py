"""Grouping note vectors into themes, leaving outliers unthemed.

HDBSCAN because a wall has no known number of themes and some notes belong to none.
Its parameters are explicit here, chosen on labelled and real deliberation data; see
`HdbscanClusterer` for the measurements behind them.
"""

from __future__ import annotations

import math
from typing import Literal, Protocol

import numpy as np

NOISE = -1


class Clusterer(Protocol):
    """Gives each row of `vectors` an integer cluster label; `NOISE` (-1) means unthemed."""

    def fit(self, vectors: np.ndarray) -> np.ndarray: ...


def scaled_min_cluster_size(n: int) -> int:
    """Smallest theme worth showing for a wall of `n` notes.

    Three notes already make a theme on a table of a dozen; on a plenary wall of a
    thousand a theme needs about sixteen, or the facilitator gets a hundred of them.
    """
    return max(3, round(math.sqrt(n) / 2))


def project(vectors: np.ndarray, components: int) -> np.ndarray:
    """Principal components of `vectors`, each row scaled back to unit length.

    Fitted on the notes being clustered, so the axes are the ones along which this wall's
    notes differ. Unit rows keep euclidean distance monotone with cosine.
    """
    centred = vectors.astype(np.float64) - vectors.mean(axis=0)
    # eigh on the d x d covariance is far cheaper than an SVD of the n x d matrix for
    # n >> d, and exact; eigenvector signs are arbitrary but distances do not see them.
    _, eigvecs = np.linalg.eigh(centred.T @ centred)
    reduced = centred @ eigvecs[:, ::-1][:, :components]
    norms = np.linalg.norm(reduced, axis=1, keepdims=True)
    result: np.ndarray = reduced / np.where(norms == 0.0, 1.0, norms)
    return result


class HdbscanClusterer:
    """HDBSCAN on unit vectors, optionally after a PCA to `reduce_to` dimensions.

    `min_cluster_size=None` scales with the number of notes (`scaled_min_cluster_size`).
    PCA applies only when there are more than `reduce_above` notes: on few notes the
    components are mostly noise, and HDBSCAN is fast on raw vectors anyway.
    """

    def __init__(
        self,
        min_cluster_size: int | None = None,
        min_samples: int | None = 1,
        metric: str = "euclidean",
        cluster_selection_method: Literal["eom", "leaf"] = "eom",
        cluster_selection_epsilon: float = 0.0,
        reduce_to: int | None = 20,
        reduce_above: int = 100,
    ) -> None:
        if min_cluster_size is not None and min_cluster_size < 2:
            raise ValueError("min_cluster_size must be at least 2")
        if min_samples is not None and min_samples < 1:
            raise ValueError("min_samples must be at least 1")
        if reduce_to is not None and reduce_to < 2:
            raise ValueError("reduce_to must be at least 2")
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.metric = metric
        self.cluster_selection_method = cluster_selection_method
        self.cluster_selection_epsilon = cluster_selection_epsilon
        self.reduce_to = reduce_to
        self.reduce_above = reduce_above

    def fit(self, vectors: np.ndarray) -> np.ndarray:
        if vectors.ndim != 2:
            raise ValueError(f"expected a 2-d array, got shape {vectors.shape}")
        n = vectors.shape[0]
        size = self.min_cluster_size or scaled_min_cluster_size(n)
        # Without allow_single_cluster HDBSCAN needs two clusters of `size` to report
        # anything; below that it would only spend time saying "all noise".
        if n < max(3, 2 * size):
            return np.full(n, NOISE, dtype=np.int64)
        if not np.isfinite(vectors).all():
            raise ValueError("vectors contain NaN or infinity")
        data = vectors.astype(np.float64)
        if self.reduce_to is not None and n > self.reduce_above and data.shape[1] > self.reduce_to:
            data = project(data, self.reduce_to)

        import hdbscan

        model = hdbscan.HDBSCAN(
            min_cluster_size=size,
            min_samples=None if self.min_samples is None else min(self.min_samples, n - 1),
            metric=self.metric,
            cluster_selection_method=self.cluster_selection_method,
            cluster_selection_epsilon=self.cluster_selection_epsilon,
            core_dist_n_jobs=1,
        )
        labels: np.ndarray = model.fit_predict(data)
        return labels.astype(np.int64)
