"""Grouping note vectors into themes, leaving outliers unthemed.

HDBSCAN because a wall has no known number of themes and some notes belong to none.
Its parameters are explicit here, chosen on labelled and real deliberation data; see
`HdbscanClusterer` for the measurements behind them.
"""

from __future__ import annotations

import math
from typing import Literal, Protocol

import numpy as np

from nlp.geometry import principal_axes

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


def scaled_max_cluster_size(n: int, share: float) -> int:
    """Largest theme HDBSCAN may select: `share` of a large wall, never binding on a small one.

    Below about 280 notes the 5 * sqrt(n) floor wins, so a table of 30 can still have a
    theme holding most of its notes.
    """
    return max(round(share * n), round(5 * math.sqrt(n)))


GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


def stable_sample(n: int, limit: int) -> np.ndarray:
    """About `limit` of `n` row positions, mostly the same ones as `n` grows.

    Row i is in when frac(i * golden ratio) < limit / n: evenly spread over the rows (notes
    come in creation order, so over time too), and a wall that grows drops a few rows from
    the sample instead of drawing a new one, so consecutive runs cluster mostly the same
    notes and themes do not churn because of the sample.
    """
    if n <= limit:
        return np.arange(n)
    positions = np.arange(n, dtype=np.float64)
    return np.flatnonzero(np.modf(positions * GOLDEN)[0] < limit / n)


def project(vectors: np.ndarray, components: int) -> np.ndarray:
    """Principal components of `vectors`, each row scaled back to unit length.

    Fitted on the notes being clustered, so the axes are the ones along which this wall's
    notes differ. Unit rows keep euclidean distance monotone with cosine.
    """
    centred = vectors.astype(np.float64) - vectors.mean(axis=0)
    # The leading eigenvectors of the d x d covariance are far cheaper than an SVD of the
    # n x d matrix for n >> d, and exact; their signs are arbitrary but distances do not
    # see them.
    reduced = centred @ principal_axes(centred, components)
    norms = np.linalg.norm(reduced, axis=1, keepdims=True)
    result: np.ndarray = reduced / np.where(norms == 0.0, 1.0, norms)
    return result


class HdbscanClusterer:
    """HDBSCAN on unit vectors, after a PCA to `reduce_to` dimensions (None: raw vectors).

    `min_cluster_size=None` scales with the number of notes (`scaled_min_cluster_size`).
    Defaults measured with the packaged MiniLM model on labelled stackoverflow titles
    (20 to 4,000 titles, 3 to 20 topics) and on Pol.is deliberations:

    - PCA fitted on the wall itself, then rows re-normalised. On raw 384-d vectors a
      whole Pol.is conversation fell into two themes, one of 326 notes: every note shares
      the "our town" direction, and centring removes it. NMI against the true topics rose
      from 0.57-0.60 to 0.67-0.75 (100 to 600 titles), and HDBSCAN got faster (600 notes:
      0.24 s raw, 0.05 s reduced). 10, 15, 20 and 30 components scored within 0.02 NMI
      on average; 15 kept noise lowest across sizes. On fewer notes than components the
      projection is only the centring, and that is what lets a 30-note wall split at all.
    - `min_samples=1`: 2, 3 or the HDBSCAN default left 5-20 percentage points more of the notes
      unthemed, with no better agreement with the true topics.
    - "eom" selection: "leaf" cut topics into many small themes (10 for 6 topics).
    - `max_cluster_share=0.3`: replaying a Pol.is conversation note by note, "eom" now
      and then preferred one parent cluster over its children: 9 themes became 2, one
      holding 79% of the notes, and 10 came back 50 notes later. Capping a theme at 30%
      of a large wall (`scaled_max_cluster_size`) kept 6-12 themes at every step and
      changed nothing on the labelled titles.
    - `algorithm="prims_kdtree"`: exact, and twice as fast as the "best" choice on 15
      dimensions (4,000 notes: 0.6 s against 1.1 s). A KD-tree takes euclidean-like
      metrics only: pass "best" or "generic" with any other `metric`.
    - `fit_limit=5000`: above it, HDBSCAN runs on a `stable_sample` of that many notes
      and the others take their nearest sampled note's cluster. 20,000 stackoverflow
      titles: 27 s on all of them, 2.6 s this way, NMI 0.69 either way (k-means with the
      true k: 0.69). The sample moves little as the wall grows, so neither do themes.
    """

    def __init__(
        self,
        min_cluster_size: int | None = None,
        min_samples: int | None = 1,
        metric: str = "euclidean",
        cluster_selection_method: Literal["eom", "leaf"] = "eom",
        cluster_selection_epsilon: float = 0.0,
        reduce_to: int | None = 15,
        max_cluster_share: float | None = 0.3,
        algorithm: str = "prims_kdtree",
        fit_limit: int | None = 5000,
    ) -> None:
        if min_cluster_size is not None and min_cluster_size < 2:
            raise ValueError("min_cluster_size must be at least 2")
        if min_samples is not None and min_samples < 1:
            raise ValueError("min_samples must be at least 1")
        if reduce_to is not None and reduce_to < 2:
            raise ValueError("reduce_to must be at least 2")
        if max_cluster_share is not None and not 0.0 < max_cluster_share <= 1.0:
            raise ValueError("max_cluster_share must be in (0, 1]")
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.metric = metric
        self.cluster_selection_method = cluster_selection_method
        self.cluster_selection_epsilon = cluster_selection_epsilon
        self.reduce_to = reduce_to
        self.max_cluster_share = max_cluster_share
        self.algorithm = algorithm
        self.fit_limit = fit_limit

    def fit(self, vectors: np.ndarray) -> np.ndarray:
        if vectors.ndim != 2:
            raise ValueError(f"expected a 2-d array, got shape {vectors.shape}")
        if self.fit_limit is None or vectors.shape[0] <= self.fit_limit:
            return self._fit(vectors)
        # HDBSCAN's time grows faster than linearly (20,000 notes took 27 s here, 4,000
        # under 2 s): cluster a stable sample, and give every other note the theme of its
        # nearest sampled note. The pipeline then attaches what is left as for any noise.
        if not np.isfinite(vectors).all():
            raise ValueError("vectors contain NaN or infinity")
        data = vectors.astype(np.float64)
        if self.reduce_to is not None:
            data = project(data, min(self.reduce_to, data.shape[1]))
        sample = stable_sample(len(data), self.fit_limit)
        sample_labels = self._fit(data[sample], projected=True)
        labels = np.full(len(data), NOISE, dtype=np.int64)
        labels[sample] = sample_labels
        rest = np.setdiff1d(np.arange(len(data)), sample)
        reference = data[sample]
        for start in range(0, len(rest), 2048):
            block = rest[start : start + 2048]
            nearest = (data[block] @ reference.T).argmax(axis=1)
            labels[block] = sample_labels[nearest]
        return labels

    def _fit(self, vectors: np.ndarray, *, projected: bool = False) -> np.ndarray:
        n = vectors.shape[0]
        size = self.min_cluster_size or scaled_min_cluster_size(n)
        # Without allow_single_cluster HDBSCAN needs two clusters of `size` to report
        # anything; below that it would only spend time saying "all noise".
        if n < max(3, 2 * size):
            return np.full(n, NOISE, dtype=np.int64)
        if not np.isfinite(vectors).all():
            raise ValueError("vectors contain NaN or infinity")
        data = vectors.astype(np.float64)
        if self.reduce_to is not None and not projected:
            data = project(data, min(self.reduce_to, data.shape[1]))

        largest = 0  # hdbscan's "no limit"
        if self.max_cluster_share is not None:
            largest = scaled_max_cluster_size(n, self.max_cluster_share)

        import hdbscan

        model = hdbscan.HDBSCAN(
            min_cluster_size=size,
            min_samples=None if self.min_samples is None else min(self.min_samples, n - 1),
            metric=self.metric,
            algorithm=self.algorithm,
            cluster_selection_method=self.cluster_selection_method,
            cluster_selection_epsilon=self.cluster_selection_epsilon,
            max_cluster_size=largest,
            # The worker shares a small machine with the event loop: one core is enough
            # (0.06 s for 1,000 notes, 0.6 s for 4,000) and leaves the other to the server.
            core_dist_n_jobs=1,
        )
        labels: np.ndarray = model.fit_predict(data)
        return labels.astype(np.int64)
