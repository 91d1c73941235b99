"""Vector arithmetic behind themes: centroids, nearest theme, distinct notes, the 2-D map.

Pure numpy. Vectors are rows of unit length, so a dot product is a cosine similarity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

NOISE = -1


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    result: np.ndarray = matrix / np.where(norms == 0.0, 1.0, norms)
    return result


def principal_axes(centred: np.ndarray, count: int) -> np.ndarray:
    """The `count` leading principal axes of already centred rows, as columns, largest first.

    Only the leading eigenvectors of the d x d scatter matrix are computed (LAPACK's
    "evr" driver), on one BLAS thread: on two busy cores numpy's full `eigh` of a
    384 x 384 matrix took 1.6-2.3 s with OpenBLAS's threads contending, this 0.02 s.
    The limit is set here because it only reaches libraries already loaded, and scipy's
    OpenBLAS is loaded by this very import. Signs are arbitrary.
    """
    import scipy.linalg
    from threadpoolctl import threadpool_limits

    width = centred.shape[1]
    count = min(count, width)
    if count <= 0:
        return np.zeros((width, 0))
    scatter = centred.T @ centred
    with threadpool_limits(1):
        _, vectors = scipy.linalg.eigh(
            scatter, subset_by_index=[width - count, width - 1], driver="evr"
        )
    axes: np.ndarray = vectors[:, ::-1]
    return axes


def centroids(vectors: np.ndarray, labels: np.ndarray) -> tuple[list[int], np.ndarray]:
    """The clusters' labels (ascending) and their unit mean directions, one row each."""
    themed = np.flatnonzero(labels >= 0)
    found = np.unique(labels[themed])
    if not found.size:
        return [], np.zeros((0, vectors.shape[1] if vectors.ndim == 2 else 0))
    # One pass over the rows (a sparse "which theme" matrix times the vectors) rather than
    # a masked copy per theme: on 20,000 notes refine's rounds spent most of their time
    # copying rows.
    import scipy.sparse

    membership = scipy.sparse.csr_matrix(
        (np.ones(themed.size), (np.searchsorted(found, labels[themed]), themed)),
        shape=(found.size, len(labels)),
    )
    sums = np.asarray(membership @ vectors.astype(np.float64, copy=False))
    return [int(k) for k in found], unit_rows(sums)


def attach_leftovers(vectors: np.ndarray, labels: np.ndarray, threshold: float) -> np.ndarray:
    """Noise rows whose nearest centroid is at least `threshold` in cosine join that cluster.

    HDBSCAN calls noise whatever lies outside a dense core, including notes plainly about
    a theme worded a little differently; a facilitator reads them as that theme. Notes far
    from every theme stay unthemed and are shown as unique ideas.
    """
    keys, centres = centroids(vectors, labels)
    result = labels.copy()
    noise = np.flatnonzero(labels < 0)
    if not keys or noise.size == 0:
        return result
    similarity = vectors[noise].astype(np.float64) @ centres.T
    best = similarity.argmax(axis=1)
    close = similarity[np.arange(noise.size), best] >= threshold
    result[noise[close]] = np.asarray(keys, dtype=np.int64)[best[close]]
    return result


def distinctness(vectors: np.ndarray, rows: Sequence[int], centres: np.ndarray) -> np.ndarray:
    """1 - the cosine of each row to its nearest theme centre or other listed row.

    High for an idea nobody else raised; low for an outlier that echoes another one.
    """
    if not rows:
        return np.zeros(0)
    block = vectors[list(rows)].astype(np.float64)
    nearest = np.full(len(rows), -1.0)
    if centres.size:
        nearest = np.maximum(nearest, (block @ centres.T).max(axis=1))
    if len(rows) > 1:
        among = block @ block.T
        np.fill_diagonal(among, -1.0)
        nearest = np.maximum(nearest, among.max(axis=1))
    result: np.ndarray = np.clip(1.0 - nearest, 0.0, 2.0)
    return result


def most_similar(
    vector: np.ndarray, matrix: np.ndarray, *, threshold: float, limit: int
) -> list[tuple[int, float]]:
    """Rows of `matrix` at least `threshold` in cosine to `vector`, closest first."""
    if matrix.size == 0:
        return []
    scores = matrix.astype(np.float64) @ vector.astype(np.float64)
    order = np.argsort(-scores, kind="stable")[:limit]
    return [(int(i), float(scores[i])) for i in order if scores[i] >= threshold]


def map_coordinates(
    vectors: np.ndarray, ids: Sequence[str], previous: Mapping[str, tuple[float, float]]
) -> np.ndarray:
    """2-D positions for a map of the notes, aligned with `previous` positions.

    The two principal axes of the notes, then the rotation, reflection, scale and shift
    that best carry the notes already on the map onto where they were (orthogonal
    Procrustes). A new note therefore does not turn or mirror the whole map; points move
    only as far as the notes' own geometry changed. Scaled into [-1, 1].
    """
    n = len(ids)
    if n == 0:
        return np.zeros((0, 2))
    data = vectors.astype(np.float64)
    centred = data - data.mean(axis=0)
    if n == 1:
        points = np.zeros((1, 2))
    else:
        points = centred @ principal_axes(centred, 2)
        if points.shape[1] < 2:
            points = np.hstack([points, np.zeros((n, 2 - points.shape[1]))])
    known = [k for k, note_id in enumerate(ids) if note_id in previous]
    if len(known) >= 3:
        source = points[known]
        target = np.array([previous[ids[k]] for k in known], dtype=np.float64)
        s_mean, t_mean = source.mean(axis=0), target.mean(axis=0)
        s0, t0 = source - s_mean, target - t_mean
        u, sigma, vt = np.linalg.svd(s0.T @ t0)
        rotation = u @ vt
        spread = float((s0**2).sum())
        scale = float(sigma.sum()) / spread if spread > 0 else 1.0
        points = (points - s_mean) @ rotation * scale + t_mean
    else:
        extent = float(np.abs(points).max()) if points.size else 0.0
        if extent > 0:
            points = points / extent
    result: np.ndarray = np.clip(points, -1.0, 1.0)
    return result


def refine(
    vectors: np.ndarray,
    labels: np.ndarray,
    threshold: float,
    iterations: int = 10,
    gate: np.ndarray | None = None,
) -> np.ndarray:
    """HDBSCAN's clusters as seeds, then each note to its nearest centre, a few rounds.

    HDBSCAN decides how many themes there are and where their dense cores lie; its
    borders on short texts are ragged (a note at the edge of a dense region is noise, or
    in the neighbour that reached it first). Re-assigning every note to the nearest centre
    and recomputing the centres (Lloyd's rounds, the number of themes fixed) straightens
    them; a note below `threshold` to every centre stays unthemed. On the labelled sets
    this raised NMI by 0.01-0.04 over attaching the leftovers alone (docs/themes.md).

    `gate`, when given, holds the same notes in another space (the model's, when themes
    are drawn with shared words blended in): the nearest centre is found in `vectors`, but
    a note stays unthemed when its cosine to that theme's centre in `gate` is below
    `threshold`, so what "unthemed" means does not depend on the words.
    """
    data = vectors.astype(np.float64, copy=False)
    judged = None if gate is None else gate.astype(np.float64, copy=False)
    # With a gate the first round attaches the leftovers itself, by the gate's rule.
    current = attach_leftovers(data, labels, threshold) if judged is None else labels.copy()
    for _ in range(iterations):
        keys, centres = centroids(data, current)
        if not keys:
            return current
        similarity = data @ centres.T
        best = similarity.argmax(axis=1)
        if judged is None:
            closeness = similarity[np.arange(len(best)), best]
        else:
            _, gate_centres = centroids(judged, current)
            closeness = np.einsum("ij,ij->i", judged, gate_centres[best])
        close = closeness >= threshold
        updated = np.where(close, np.asarray(keys, dtype=np.int64)[best], NOISE)
        if np.array_equal(updated, current):
            break
        current = updated
    return current
