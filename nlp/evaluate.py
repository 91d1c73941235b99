"""Figures that say whether themes are right and stable, against known labels.

Pure apart from scikit-learn. Used by `tablee themes` and the benchmarks; every figure is
computed on the same vectors the themes came from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from nlp.themes import ThemeSet


@dataclass(frozen=True)
class Agreement:
    nmi: float
    ari: float
    nmi_themed: float
    ari_themed: float
    unthemed_share: float
    n_themes: int


def theme_labels(themes: ThemeSet, ids: Sequence[str]) -> np.ndarray:
    """One integer per note, in `ids` order: its theme's index, or -1 when unthemed."""
    index = {t.id: k for k, t in enumerate(themes.themes)}
    theme_of = themes.theme_of()
    return np.array([index[theme_of[i]] if i in theme_of else -1 for i in ids], dtype=np.int64)


def agreement(predicted: np.ndarray, truth: Sequence[str]) -> Agreement:
    """NMI and ARI on all notes (unthemed ones as one more group) and on the themed ones."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    true = np.asarray(truth)
    themed = predicted >= 0
    n = len(predicted)
    if themed.any():
        nmi_t = float(normalized_mutual_info_score(true[themed], predicted[themed]))
        ari_t = float(adjusted_rand_score(true[themed], predicted[themed]))
    else:
        nmi_t = ari_t = 0.0
    return Agreement(
        nmi=float(normalized_mutual_info_score(true, predicted)) if n else 0.0,
        ari=float(adjusted_rand_score(true, predicted)) if n else 0.0,
        nmi_themed=nmi_t,
        ari_themed=ari_t,
        unthemed_share=float((~themed).mean()) if n else 0.0,
        n_themes=len({int(k) for k in predicted.tolist() if k >= 0}),
    )


def kmeans_baseline(vectors: np.ndarray, truth: Sequence[str], seed: int = 0) -> Agreement:
    """k-means told the true number of labels, on the same vectors: the usual baseline."""
    from sklearn.cluster import KMeans

    k = len(set(truth))
    predicted = KMeans(n_clusters=k, n_init=3, random_state=seed).fit_predict(vectors)
    return agreement(np.asarray(predicted, dtype=np.int64), truth)


def churn(before: ThemeSet, after: ThemeSet) -> float:
    """Share of the notes themed in `before` whose theme id differs in `after`.

    A note that became unthemed counts as changed; a note deleted in between does not count.
    """
    old = before.theme_of()
    new = after.theme_of()
    present = set(new) | set(after.unthemed_ids)
    counted = [i for i in old if i in present]
    if not counted:
        return 0.0
    return sum(1 for i in counted if new.get(i) != old[i]) / len(counted)


def summary(figures: Mapping[str, float]) -> str:
    return ", ".join(f"{k} {v:.3f}" for k, v in figures.items())
