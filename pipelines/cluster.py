"""Cluster unit embeddings into themes, the same way whatever order the rows come in.

Steps: sort rows canonically -> reduce (seeded UMAP or PCA) -> HDBSCAN, sizes scaling with n ->
dissolve loose clusters -> merge near-duplicate clusters -> evict strays -> adopt noise near a
centroid -> number clusters largest first. Centroids and all similarities live in the original space.

Defaults come from benchmarks/cluster_eval.py with all-MiniLM-L6-v2: UMAP to 10 dims beat PCA to
10-50 dims by 0.02-0.05 NMI on BANKING77 (10k) and DSTC11 (407); leaf selection beat excess-of-mass
on every subset up to 3k rows (by 0.19 NMI at 60 rows) and tied it at 10k; adopting noise at
cosine 0.5 lifts coverage from ~0.85 to ~0.99 (0.4 or 0.6 moved NMI by under 0.003).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

REDUCERS = ("auto", "pca", "umap")
# "auto": UMAP (better NMI) up to this many points, PCA above: UMAP took ~17 min at 100k on
# 2 cores (one thread, seeded) against ~3 min for PCA, which also kept more ids (99% vs 81%).
UMAP_MAX_POINTS = 20_000
UMAP_NEIGHBORS = 15
# UMAP runs 500 epochs up to 10k points and 200 above; a fixed budget of point-epochs keeps the
# better-converged layout up to 10k, then slides to 200 by 25k so big corpora stay affordable.
UMAP_EPOCH_BUDGET = 5_000_000
SELECTION = "leaf"
# Fewer than three sayings of a point are a coincidence, not a theme.
MIN_CLUSTER_SIZE = 3
# Below this many points density estimates mean nothing; a linkage on cosine decides instead.
MIN_POINTS_FOR_HDBSCAN = 8
# A cluster whose members' mean pairwise cosine is below this is an artefact of the projection:
# random pairs of in-domain sentences sit at 0.21-0.24 (BANKING77, DSTC11), real intents above 0.4.
MIN_COHESION = 0.3
# A member less similar than this to its own centroid is a stray that the projection folded in:
# as far from its theme as unrelated in-domain sentences are from each other.
STRAY_COSINE = 0.3
# Rows are rounded before fitting so that an order-free sort key exists and ties are exact.
KEY_DECIMALS = 6


@dataclass(frozen=True)
class ClusterConfig:
    """How to cluster; sizes left as None scale with the number of points (see `hdbscan_sizes`)."""

    reducer: str = "auto"
    dims: int = 10
    min_cluster_size: int | None = None
    min_samples: int | None = None
    assign_threshold: float = 0.5
    merge_threshold: float = 0.9
    seed: int = 42

    def __post_init__(self) -> None:
        if self.reducer not in REDUCERS:
            raise ValueError(f"reducer must be one of {REDUCERS}, not {self.reducer!r}")
        if self.dims < 2:
            raise ValueError("dims must be at least 2")


@dataclass(frozen=True)
class ClusterResult:
    """labels: cluster per row (-1 noise); strength: membership confidence 0..1; unit centroids."""

    labels: np.ndarray
    strength: np.ndarray
    centroids: np.ndarray

    @property
    def n_clusters(self) -> int:
        return int(self.centroids.shape[0])


def hdbscan_sizes(n: int) -> tuple[int, int]:
    """min_cluster_size ~ sqrt(n) / 7, at least 3 (3 up to 600, 8 at 3k, 14 at 10k, 143 at 1M).

    A theme of 3 mentions matters in a small workspace; in a big one sizes grow with sqrt(n) so
    that the number of themes stays readable. Chosen on CLINC150 validation (3,000 texts, 150
    intents of 20) and BANKING77 train samples (100, 500, 3,080): 3 was best at 100 and 500 rows
    (by 0.03-0.1 NMI over 6), 8-12 at 3k; n**0.4 (25 at 3k) lost 0.05-0.25 NMI on sets of many
    small intents. min_samples half of it: a point needs a few neighbours, not a crowd.
    """
    min_cluster_size = max(MIN_CLUSTER_SIZE, round(n**0.5 / 7))
    return min_cluster_size, max(1, min_cluster_size // 2)


def cluster_embeddings(X: np.ndarray, config: ClusterConfig = ClusterConfig()) -> ClusterResult:
    """Cluster rows of X; the same rows in any order give the same labels, numbers included."""
    X = _unit_rows(X)
    if len(X) == 0:
        return ClusterResult(
            np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), np.zeros((0, X.shape[1]))
        )
    order = canonical_order(X)
    Xs = X[order]
    labels = _dissolve_loose(Xs, _raw_clusters(Xs, config))
    labels = merge_near_duplicates(Xs, labels, config.merge_threshold)
    labels = _evict_strays(Xs, labels)
    labels = adopt_noise(Xs, labels, config.assign_threshold)
    labels = _canonical_numbers(labels)
    centroids = centroids_of(Xs, labels)
    out_labels = np.empty_like(labels)
    out_labels[order] = labels
    return ClusterResult(out_labels, _strength(X, out_labels, centroids), centroids)


def assign_to_centroids(
    X: np.ndarray, centroids: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid by cosine per row, or -1 below threshold; also each row's best cosine."""
    X = _unit_rows(X)
    if len(X) == 0 or len(centroids) == 0:
        return np.full(len(X), -1, dtype=np.int64), np.zeros(len(X), dtype=np.float32)
    sims = X @ _unit_rows(centroids).T
    best = np.argmax(sims, axis=1)
    best_sims = sims[np.arange(len(X)), best]
    return np.where(best_sims >= threshold, best, -1).astype(np.int64), best_sims


def canonical_order(X: np.ndarray) -> np.ndarray:
    """Row order that depends only on the rows' (rounded) values, never on their input order."""
    if len(X) == 0:
        return np.zeros(0, dtype=np.int64)
    # lexsort's last key is the primary one; rows equal after rounding are interchangeable.
    return np.lexsort(X.T[::-1]).astype(np.int64)


def centroids_of(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Unit mean vector of each cluster 0..k-1 (k = labels.max() + 1), in X's space."""
    k = int(labels.max()) + 1 if len(labels) else 0
    sums = np.zeros((k, X.shape[1]), dtype=np.float64)
    members = labels >= 0
    np.add.at(sums, labels[members], X[members])
    return _unit_rows(sums)


def merge_near_duplicates(X: np.ndarray, labels: np.ndarray, threshold: float) -> np.ndarray:
    """Join clusters whose centroids have cosine >= threshold (transitively); noise stays -1."""
    centroids = centroids_of(X, labels)
    k = len(centroids)
    if k < 2:
        return labels
    parent = list(range(k))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    close = np.argwhere(np.triu(centroids @ centroids.T >= threshold, k=1))
    for a, b in close:
        ra, rb = root(int(a)), root(int(b))
        parent[max(ra, rb)] = min(ra, rb)
    roots = np.array([root(i) for i in range(k)] + [-1])
    return _compact(roots[labels])  # index -1 picks the trailing -1: noise stays noise


def _unit_rows(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2:
        raise ValueError(f"expected a 2-d array of embeddings, got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("embeddings contain NaN or infinity")
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    X = X / np.where(norms > 0, norms, 1.0)
    return np.round(X, KEY_DECIMALS).astype(np.float32)


def _raw_clusters(X: np.ndarray, config: ClusterConfig) -> np.ndarray:
    """HDBSCAN labels, a cosine linkage for tiny inputs, or one candidate where HDBSCAN finds none."""
    if len(X) < MIN_POINTS_FOR_HDBSCAN:
        return _tiny_clusters(X, config.assign_threshold)
    import hdbscan

    min_cluster_size, min_samples = hdbscan_sizes(len(X))
    model = hdbscan.HDBSCAN(
        min_cluster_size=config.min_cluster_size or min_cluster_size,
        min_samples=config.min_samples or min_samples,
        cluster_selection_method=SELECTION,
    )
    labels = model.fit_predict(_reduce(X, config)).astype(np.int64)
    # No density structure: either one tight theme (e.g. the same quote repeated) or none at all;
    # _dissolve_loose tells which.
    return labels if labels.max() >= 0 else np.zeros(len(X), dtype=np.int64)


def _dissolve_loose(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Send clusters whose mean pairwise cosine is below MIN_COHESION back to noise."""
    members = labels >= 0
    sizes = np.bincount(labels[members], minlength=int(labels.max()) + 1).astype(np.float64)
    sums = np.zeros((len(sizes), X.shape[1]), dtype=np.float64)
    np.add.at(sums, labels[members], X[members])
    # |sum|^2 = m + m(m-1) * mean pairwise cosine, for unit rows
    pairs = np.maximum(sizes * (sizes - 1), 1.0)
    cohesion = ((sums**2).sum(axis=1) - sizes) / pairs
    loose = np.append(cohesion < MIN_COHESION, False)  # trailing slot: noise stays noise
    return _compact(np.where(loose[labels], -1, labels))


def _compact(labels: np.ndarray) -> np.ndarray:
    """Renumber clusters 0..k-1 keeping their order; noise stays -1."""
    ids, inverse = np.unique(labels, return_inverse=True)
    return (inverse - (1 if len(ids) and ids[0] < 0 else 0)).astype(np.int64)


def _tiny_clusters(X: np.ndarray, threshold: float) -> np.ndarray:
    """Average-linkage groups of >= 2 rows whose mean cosine clears threshold; the rest noise."""
    labels = np.full(len(X), -1, dtype=np.int64)
    if len(X) >= 2:
        from scipy.cluster.hierarchy import fcluster, linkage

        tree = linkage(X.astype(np.float64), method="average", metric="cosine")
        groups = fcluster(tree, t=1.0 - threshold, criterion="distance")
        keep = np.bincount(groups)[groups] >= 2
        labels[keep] = np.unique(groups[keep], return_inverse=True)[1]
    return labels


def _reduce(X: np.ndarray, config: ClusterConfig) -> np.ndarray:
    """Seeded UMAP (cosine, min_dist 0: tight clumps for HDBSCAN) or PCA to config.dims."""
    dims = min(config.dims, X.shape[0] - 2, X.shape[1])
    reducer_name = config.reducer
    if reducer_name == "auto":
        reducer_name = "umap" if len(X) <= UMAP_MAX_POINTS else "pca"
    if reducer_name == "umap":
        try:
            with warnings.catch_warnings():
                # umap warns on import that the optional TensorFlow (ParametricUMAP) is absent.
                warnings.simplefilter("ignore", ImportWarning)
                import umap
        except ImportError as exc:
            raise ImportError(
                "reducer='umap' needs umap-learn (pip install umap-learn); "
                "ClusterConfig(reducer='pca') needs nothing extra"
            ) from exc
        reducer = umap.UMAP(
            n_components=dims,
            n_neighbors=min(UMAP_NEIGHBORS, X.shape[0] - 1),
            metric="cosine",
            min_dist=0.0,
            n_epochs=max(200, min(500, round(UMAP_EPOCH_BUDGET / len(X)))),
            random_state=config.seed,
            n_jobs=1,  # a seed forces one thread anyway; saying so silences umap's warning
        )
        return np.asarray(reducer.fit_transform(X), dtype=np.float64)
    from sklearn.decomposition import PCA

    return PCA(n_components=dims, random_state=config.seed).fit_transform(X).astype(np.float64)


def _evict_strays(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Members below STRAY_COSINE to their own centroid become noise (and may be adopted later)."""
    members = np.flatnonzero(labels >= 0)
    sims = np.einsum("ij,ij->i", X[members], centroids_of(X, labels)[labels[members]])
    labels = labels.copy()
    labels[members[sims < STRAY_COSINE]] = -1
    return _compact(labels)


def adopt_noise(X: np.ndarray, labels: np.ndarray, threshold: float) -> np.ndarray:
    """Noise rows whose cosine to the nearest centroid is >= threshold join that cluster."""
    noise = labels < 0
    if not noise.any() or labels.max() < 0:
        return labels
    labels = labels.copy()
    labels[noise] = assign_to_centroids(X[noise], centroids_of(X, labels), threshold)[0]
    return labels


def _strength(X: np.ndarray, labels: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Cosine of each member to its cluster's centroid, clipped to 0..1; noise 0.

    Chosen over HDBSCAN's probabilities, which are undefined for exact duplicates (common in
    quotes) and do not exist for adopted noise.
    """
    strength = np.zeros(len(X), dtype=np.float32)
    members = labels >= 0
    sims = np.einsum("ij,ij->i", X[members], centroids[labels[members]])
    strength[members] = np.clip(sims, 0.0, 1.0)
    return strength


def _canonical_numbers(labels: np.ndarray) -> np.ndarray:
    """Renumber clusters 0..k-1 by size (largest first), ties by their first row in canonical order."""
    ids, first, size = np.unique(labels[labels >= 0], return_index=True, return_counts=True)
    ranked = ids[np.lexsort((first, -size))]
    mapping = np.full(int(labels.max()) + 2 if len(ids) else 1, -1, dtype=np.int64)
    mapping[ranked] = np.arange(len(ranked))
    return mapping[labels]  # noise (-1) reads the trailing -1
