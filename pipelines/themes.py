"""Themes: clusters found within each category, kept when several calls say the same thing.

Every row ends in a theme or in its category's "other" group (label -1); nothing is dropped.
Clustering each category on its own keeps a price theme from absorbing a contract quote that
happens to mention money; themes from two categories whose centroids agree are joined, and a
mention no theme of its category took joins a theme of another as a noise row would in its own
(the extractor puts about a fifth of the demo's planted objections in another category than
planted), so a theme spans two categories when its members do.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipelines.cluster import (
    ClusterConfig,
    ClusterResult,
    adopt_noise,
    assign_to_centroids,
    canonical_order,
    centroids_of,
    cluster_embeddings,
    compact_labels,
    member_strength,
    merge_near_duplicates,
    unit_rows,
)

# A theme is what "a few customers" say: at least this many mentions ...
MIN_THEME_MENTIONS = 3
# ... from at least this many calls (one talkative customer repeating a point is not a theme).
MIN_THEME_CALLS = 2
# Below this confidence a mention is more likely not what its kind says (objection confidences
# are calibrated probabilities): it stays in a theme only as close to the theme's centroid as a
# noise row must be to be adopted (ClusterConfig.assign_threshold). The density step can fold
# small talk into a theme of similar words (demo: "Daniel refuses to wear a winter coat until
# December", confidence 0.28, cosine 0.48, in a timing theme); on the labelled demo theme set
# this left NMI, ARI and coverage unchanged.
UNLIKELY_BELOW = 0.5


def find_themes(
    X: np.ndarray,
    categories: Sequence[str | None],
    calls: Sequence[int],
    config: ClusterConfig | None = None,
    confidences: Sequence[float] | None = None,
    *,
    copy: bool = True,
) -> ClusterResult:
    """Theme per row (-1: its category's other group), the same whatever order rows come in.

    Given the rows' confidences, unlikely rows far from their theme's centroid leave it.
    copy=False lets X (float32) be made unit in place, as `unit_rows` says.
    """
    if not len(X) == len(categories) == len(calls):
        raise ValueError(f"{len(X)} rows, {len(categories)} categories, {len(calls)} calls")
    if confidences is not None and len(confidences) != len(X):
        raise ValueError(f"{len(X)} rows, {len(confidences)} confidences")
    X = unit_rows(X, copy=copy)
    if len(X) == 0:
        return ClusterResult(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32),
                             np.zeros((0, X.shape[1])))
    config = config or ClusterConfig()
    labels = _within_categories(X, categories, config)
    labels = merge_near_duplicates(X, labels, config.merge_threshold)
    labels = adopt_noise(X, labels, config.assign_threshold)
    if confidences is not None:
        labels = evict_unlikely(X, labels, np.asarray(confidences, dtype=np.float64),
                                config.assign_threshold)
    labels = keep_spread(labels, np.asarray(calls))
    labels = _numbered_by_size(X, labels)
    centroids = centroids_of(X, labels)
    return ClusterResult(labels, member_strength(X, labels, centroids), centroids)


def extend_themes(
    X: np.ndarray,
    labels: np.ndarray,
    new: np.ndarray,
    centroids: np.ndarray,
    calls: Sequence[int],
    config: ClusterConfig | None = None,
    *,
    copy: bool = True,
) -> ClusterResult:
    """A warm start: the last clustering, grown by rows that arrived since, without a refit.

    labels: each row's theme in the last clustering (a row of centroids), -1 for its other group;
    new: rows that clustering never saw. New rows join the nearest centroid when similar enough,
    as the rows outside a sampled fit do; old rows keep their theme or their other group. A theme
    left with too few mentions or calls dissolves (-1). Numbers are kept, so theme i is still
    centroids[i]'s; the centroids returned are the grown themes' (a zero row for a dissolved one).
    """
    if not len(X) == len(labels) == len(new) == len(calls):
        raise ValueError(f"{len(X)} rows, {len(labels)} labels, {len(new)} flags, "
                         f"{len(calls)} calls")
    config = config or ClusterConfig()
    X = unit_rows(X, copy=copy)
    labels = np.asarray(labels, dtype=np.int64).copy()
    new = np.asarray(new, dtype=bool)
    if len(centroids):
        labels[new] = assign_to_centroids(X[new], centroids, config.assign_threshold)[0]
    else:
        labels[new] = -1
    labels = _without_thin(labels, np.asarray(calls))
    grown = centroids_of(X, labels) if labels.max(initial=-1) >= 0 else np.zeros((0, X.shape[1]))
    return ClusterResult(labels, member_strength(X, labels, grown), grown)


def evict_unlikely(X: np.ndarray, labels: np.ndarray, confidences: np.ndarray,
                   min_cosine: float) -> np.ndarray:
    """Members under UNLIKELY_BELOW whose cosine to their centroid is under min_cosine -> -1."""
    members = np.flatnonzero(labels >= 0)
    if len(members) == 0:
        return labels
    # by blocks (member_strength): X[members] and its centroids would copy 2 x 150 MB at 100k;
    # clipping at 0 and 1 does not move a cosine across min_cosine
    sims = member_strength(X, labels, centroids_of(X, labels))[members]
    labels = labels.copy()
    labels[members[(confidences[members] < UNLIKELY_BELOW) & (sims < min_cosine)]] = -1
    return compact_labels(labels)


def keep_spread(labels: np.ndarray, calls: np.ndarray) -> np.ndarray:
    """Clusters with fewer than MIN_THEME_MENTIONS rows or MIN_THEME_CALLS calls become -1."""
    return compact_labels(_without_thin(labels, calls))


def _without_thin(labels: np.ndarray, calls: np.ndarray) -> np.ndarray:
    """keep_spread's rule, numbers kept."""
    labels = labels.copy()
    for label in np.unique(labels[labels >= 0]):
        members = labels == label
        if members.sum() < MIN_THEME_MENTIONS or len(set(calls[members])) < MIN_THEME_CALLS:
            labels[members] = -1
    return labels


def _within_categories(X: np.ndarray, categories: Sequence[str | None],
                       config: ClusterConfig) -> np.ndarray:
    """Cluster each category's rows alone; labels are offset so they never collide."""
    labels = np.full(len(X), -1, dtype=np.int64)
    names = np.array(["" if c is None else f"/{c}" for c in categories], dtype=object)
    offset = 0
    for name in sorted(set(names)):
        rows = np.flatnonzero(names == name)
        # one category (or none) is the whole set: no 150 MB copy of it at 100k
        result = cluster_embeddings(X if len(rows) == len(X) else X[rows], config)
        found = result.labels >= 0
        labels[rows[found]] = result.labels[found] + offset
        offset += result.n_clusters
    return labels


def _numbered_by_size(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Renumber 0..k-1 largest first, ties by the first member in canonical row order."""
    order = canonical_order(X)
    ranked = labels[order]
    ids, first, size = np.unique(ranked[ranked >= 0], return_index=True, return_counts=True)
    mapping = np.full(int(labels.max()) + 2 if len(ids) else 1, -1, dtype=np.int64)
    mapping[ids[np.lexsort((first, -size))]] = np.arange(len(ids))
    return mapping[labels]  # noise (-1) reads the trailing -1

