"""Second looks at the themes HDBSCAN found: split the broad ones, merge near-twins.

HDBSCAN picks the clusters that persist longest as density falls, on a PCA fitted on the
whole wall. Two things it gets wrong on short texts, both measured on the labelled sets
(docs/themes.md):

- A broad region whose sub-topics differ along directions the wall-wide PCA does not
  keep stays one theme (biomedical titles: 12 themes for 20 topics, several of them
  mixtures of three or four). HDBSCAN run again on the theme's own notes, with its own
  principal axes, finds those sub-topics: `split_broad`.
- One dense region now and then comes out as two themes whose centres are almost the
  same direction (web snippets: two sports themes at cosine 0.74). `merge_twins` joins
  them; the threshold is high enough that distinct topics of one deliberation, which
  all share its subject, stay apart.
"""

from __future__ import annotations

import numpy as np

from nlp.cluster import HdbscanClusterer, stable_sample
from nlp.geometry import centroids

# Notes HDBSCAN looks at when splitting, as many as the clusterer's own sample.
SAMPLE = 5000
# Themed notes on which a split is judged: pairwise distances of 3,000 notes take 72 MB.
SCORED = 3000


def silhouette(sums: np.ndarray, sizes: np.ndarray, own: np.ndarray) -> float:
    """Mean silhouette from each note's summed distance to each theme.

    `sums[i, c]` is the total distance from note i to the notes of theme c (itself
    included, at distance 0), `sizes[c]` the themes' sizes, `own[i]` the column of note
    i's theme. A note alone in its theme scores 0, as usual.
    """
    rows = np.arange(sums.shape[0])
    own_size = sizes[own]
    inside = sums[rows, own] / np.maximum(own_size - 1, 1)
    outside = sums / np.maximum(sizes, 1)[None, :]
    outside[rows, own] = np.inf
    nearest = outside.min(axis=1)
    scores = np.where(
        own_size > 1, (nearest - inside) / np.maximum(np.maximum(inside, nearest), 1e-12), 0.0
    )
    return float(scores.mean())


class SilhouetteJudge:
    """Scores partitions of one wall by the mean silhouette (cosine) of a fixed sample.

    The same sampled notes score every candidate, so two partitions are compared on equal
    terms; notes a partition leaves unthemed are left out of its score.
    """

    def __init__(self, vectors: np.ndarray, size: int = SCORED) -> None:
        self.rows = stable_sample(len(vectors), size)
        x = vectors[self.rows].astype(np.float64)
        self.distance = np.maximum(1.0 - x @ x.T, 0.0)
        np.fill_diagonal(self.distance, 0.0)

    def __call__(self, labels: np.ndarray) -> float:
        picked = labels[self.rows]
        themed = np.flatnonzero(picked >= 0)
        keys, own = np.unique(picked[themed], return_inverse=True)
        if len(keys) < 2:
            return -1.0
        onehot = np.zeros((len(themed), len(keys)))
        onehot[np.arange(len(themed)), own] = 1.0
        sums = self.distance[np.ix_(themed, themed)] @ onehot
        return silhouette(sums, onehot.sum(axis=0), own)


def split_broad(
    vectors: np.ndarray, labels: np.ndarray, min_size: int, *, sample: int = SAMPLE
) -> np.ndarray:
    """Each theme cut into the parts HDBSCAN finds among its own notes, if it finds two.

    A part must hold `min_size` of the theme's sampled notes, so a split finds sub-topics,
    not crumbs, and a theme under twice that is left alone. HDBSCAN runs on the notes of
    a `stable_sample` of the wall (the same sample as the clusterer's, so the time stays
    bounded and consecutive runs see mostly the same notes); every note of the theme then
    goes to its nearest part. HDBSCAN finds parts even in one even blob: whether the
    splits are worth keeping is for a `SilhouetteJudge` to say.
    """
    if min_size < 2:
        raise ValueError("min_size must be at least 2")
    result = labels.copy()
    in_sample = np.zeros(len(labels), dtype=bool)
    in_sample[stable_sample(len(labels), sample)] = True
    fresh = int(labels.max(initial=-1)) + 1
    for theme in sorted({int(k) for k in labels.tolist() if k >= 0}):
        members = np.flatnonzero(labels == theme)
        seen = members[in_sample[members]]
        if len(seen) < 2 * min_size:
            continue
        local = HdbscanClusterer(min_cluster_size=min_size, max_cluster_share=None, fit_limit=None)
        keys, centres = centroids(vectors[seen], local.fit(vectors[seen]))
        if len(keys) < 2:
            continue
        nearest = (vectors[members].astype(np.float64) @ centres.T).argmax(axis=1)
        for part in range(1, len(keys)):
            result[members[nearest == part]] = fresh
            fresh += 1
    return result


def merge_twins(vectors: np.ndarray, labels: np.ndarray, threshold: float) -> np.ndarray:
    """Themes merged, closest pair first, while two centres are `threshold` or closer.

    Centres are recomputed after each merge, so a merged theme is compared as it now is.
    """
    result = labels.copy()
    while True:
        keys, centres = centroids(vectors, result)
        if len(keys) < 2:
            return result
        closeness = centres @ centres.T
        np.fill_diagonal(closeness, -np.inf)
        i, j = np.unravel_index(int(closeness.argmax()), closeness.shape)
        if closeness[i, j] < threshold:
            return result
        keep, gone = sorted((keys[i], keys[j]))
        result[result == gone] = keep
