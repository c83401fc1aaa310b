"""Cluster unit embeddings into themes, the same way whatever order the rows come in.

Steps: sort rows canonically -> reduce (seeded UMAP or PCA) -> HDBSCAN at several minimum sizes,
each finished (dissolve loose clusters -> merge near-duplicates at a few thresholds -> evict strays
-> adopt noise near a centroid) -> keep the fewest clusters among the best separated -> number
clusters largest first. Under MIN_POINTS_FOR_HDBSCAN rows an average linkage cut at a few mean
cosines, each finished the same way, replaces the reduction and HDBSCAN. Centroids and all
similarities live in the original space.

Defaults come from benchmarks/cluster_eval.py with all-MiniLM-L6-v2: UMAP to 10 dims beat PCA to
10-50 dims by 0.02-0.05 NMI on BANKING77 (10k) and DSTC11 (407); leaf selection beat excess-of-mass
on every subset up to 3k rows (by 0.19 NMI at 60 rows) and tied it at 10k; adopting noise at
cosine 0.5 lifts coverage from ~0.85 to ~0.99 (0.4 or 0.6 moved NMI by under 0.003).
"""

from __future__ import annotations

import functools
import importlib
import warnings
from dataclasses import dataclass, replace

import numpy as np

REDUCERS = ("auto", "pca", "umap")
# "auto": UMAP (better NMI) up to this many points, PCA above: UMAP took ~17 min at 100k on
# 2 cores (one thread, seeded) against ~3 min for PCA, which also kept more ids (99% vs 81%).
UMAP_MAX_POINTS = 20_000
UMAP_NEIGHBORS = 15
# Where UMAP's numba functions live; their compilation is cached on disk (`_cache_umap_compilation`).
UMAP_MODULES = ("umap.umap_", "umap.layouts", "umap.spectral", "umap.utils", "umap.distances",
                "umap.sparse")
# UMAP runs 500 epochs up to 10k points and 200 above; a fixed budget of point-epochs keeps the
# better-converged layout up to 10k, then slides to 200 by 25k so big corpora stay affordable.
UMAP_EPOCH_BUDGET = 5_000_000
SELECTION = "leaf"
# Fewer than three sayings of a point are a coincidence, not a theme.
MIN_CLUSTER_SIZE = 3
# How many min_cluster_size values are tried; HDBSCAN on the reduced rows is the cheap part.
SIZE_CANDIDATES = 8
# Each candidate clustering is also finished with its near-duplicate merge this much looser than
# config.merge_threshold, and the best separated one wins. UMAP with leaf selection splits a big
# theme into fragments whose centroids sit at cosine 0.8-0.9: on BANKING77's 6 biggest intents
# (150 each) the fixed 0.9 left 30 clusters (NMI 0.67, under the common recipe's 0.73); choosing
# among 0.9 / 0.85 / 0.8 by separation gave 9 (NMI 0.87) and lifted every other BANKING77 shape
# by 0.003-0.02 NMI (benchmarks/cluster_shapes.py). 0.75 merged distinct intents at 3k rows.
MERGE_LOOSENINGS = (0.0, 0.05, 0.1)
# From this many rows, among clusterings separated within this share of the best, the one with
# fewest clusters wins: silhouette barely tells a theme from its fragments, so the best separated
# over-split BANKING77 3,080 rows into 244 clusters for 77 intents. On the BANKING77 shapes
# (cluster_shapes.py) 0.05 cut that to 126 (ARI 0.446 -> 0.501) and the 77x30 shape's 192 to 130
# (ARI 0.472 -> 0.522), NMI within 0.003; 0.02 and 0.03 moved fewer. Below 1,000 rows it cost NMI
# (500 rows 0.803 -> 0.796, 770 long texts 0.932 -> 0.925), so there the best separated wins. A
# merge of clusters as alike across as within (average linkage scaled by cohesion, at 0.85) added
# NMI +0.002 but cost the demo theme set 0.005 and a k x k pass per candidate: left out.
FEWER_CLUSTERS_FROM = 1_000
SEPARATION_TOLERANCE = 0.05
# Separation (cosine silhouette) is measured on at most this many clustered rows (seeded).
SILHOUETTE_SAMPLE = 3_000
# Below this many points density estimates (and a UMAP layout) mean little; an average linkage
# on cosine decides instead. At 30 points it matched HDBSCAN's NMI on BANKING77 and CLINC150
# samples, and it keeps one category's ten phrasings of one point together where HDBSCAN split
# exact repeats into pairs.
MIN_POINTS_FOR_HDBSCAN = 30
# The average linkage is cut where groups' mean cosine clears each of these, from
# ClusterConfig.assign_threshold down to STRAY_COSINE, and the best separated cut wins. One cut at
# 0.5 found themes only where customers repeat each other's words: quotes of one objection, worded
# freely, sit at a median cosine of 0.26 (the labelled demo theme set), and a category under 30
# mentions (every category of a workspace's first calls) kept a fifth of its labelled quotes in
# themes. On BANKING77 category-like draws of 10-29 rows (benchmarks/cluster_small.py) the chosen
# cut lifted NMI 0.695 -> 0.767 and coverage 0.922 -> 0.949; with each utterance buried among two
# other customer turns (same-intent cosine 0.37), NMI 0.384 -> 0.594, coverage 0.606 -> 0.855.
# Cuts down to 0.25 or up to 0.6 moved NMI by under 0.02 either way.
LINKAGE_CUT_STEP = 0.05
# A cluster whose members' mean pairwise cosine is below this is an artefact of the projection:
# random pairs of in-domain sentences sit at 0.21-0.24 (BANKING77, DSTC11), real intents above 0.4,
# but quotes of one objection theme, longer and worded freely, at a median of 0.30 (the labelled
# demo theme set): 0.3 dissolved half the real themes. 0.25 left BANKING77 (100, 500 rows) and
# DSTC11 unchanged or better (NMI +0.01 on one 100-row sample).
MIN_COHESION = 0.25
# A member less similar than this to its own centroid is a stray that the projection folded in:
# as far from its theme as unrelated in-domain sentences are from each other.
STRAY_COSINE = 0.3
# Above this many rows a seeded sample is clustered and the rest assigned to its centroids: the
# fit's cost grows faster than linearly (a full rebuild took 176 s and 2.1 GB at 100k), assignment
# is one matrix product. See benchmarks/cluster_scale.py for quality against the full fit.
FIT_SAMPLE = 15_000
# Rows compared with the centroids at a time when assigning, and summed at a time for centroids.
ASSIGN_BLOCK = 8192
SUM_BLOCK = 16_384
# Columns sorted on first for the canonical row order; only rows tied on all of them are sorted
# on the rest.
ORDER_KEY_COLUMNS = 4
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
    # Clusters whose centroids are at least this close always merge; up to MERGE_LOOSENINGS below
    # it they merge where that leaves the clustering better separated.
    merge_threshold: float = 0.9
    seed: int = 42
    # Above this many rows the clustering is fitted on a seeded sample of this size and the other
    # rows join the nearest centroid (see `_fit_sample_then_assign`); None fits every row.
    fit_sample: int | None = FIT_SAMPLE

    def __post_init__(self) -> None:
        if self.reducer not in REDUCERS:
            raise ValueError(f"reducer must be one of {REDUCERS}, not {self.reducer!r}")
        if self.dims < 2:
            raise ValueError("dims must be at least 2")
        if self.fit_sample is not None and self.fit_sample < MIN_POINTS_FOR_HDBSCAN:
            raise ValueError(f"fit_sample must be at least {MIN_POINTS_FOR_HDBSCAN}")


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
    """The largest min_cluster_size tried at n points (sqrt(n) / 2, at least 3) and its min_samples.

    No single size fits every corpus: on sets of many small intents (BANKING77 samples of 500,
    ~6 per intent) 3 was best by 0.1 NMI over 7; on few large ones (DSTC11 banking, 407 texts, ~22
    per intent) 10-14 beat 3 by 0.12. So sizes from 3 up to this one are tried (see
    `size_candidates`) and the clustering whose clusters are best separated wins.
    """
    min_cluster_size = max(MIN_CLUSTER_SIZE, round(n**0.5 / 2))
    return min_cluster_size, max(1, min_cluster_size // 2)


def size_candidates(n: int, config: ClusterConfig = ClusterConfig()) -> list[int]:
    """min_cluster_size values to try: log-spaced from 3 to hdbscan_sizes(n), or the fixed one."""
    if config.min_cluster_size:
        return [config.min_cluster_size]
    top = hdbscan_sizes(n)[0]
    grid = np.geomspace(MIN_CLUSTER_SIZE, max(top, MIN_CLUSTER_SIZE), SIZE_CANDIDATES)
    return sorted({round(float(v)) for v in grid})


def cluster_embeddings(X: np.ndarray, config: ClusterConfig = ClusterConfig()) -> ClusterResult:
    """Cluster rows of X; the same rows in any order give the same labels, numbers included."""
    X = _checked(X)
    if len(X) == 0:
        return ClusterResult(
            np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), np.zeros((0, X.shape[1]))
        )
    # the rows are made unit and rounded once, already in canonical order: one copy of them
    # (150 MB at 100k) besides the caller's
    norms = row_norms(X)
    order = canonical_order(X, norms)
    Xs = X[order]
    Xs /= norms[order, None]
    np.round(Xs, KEY_DECIMALS, out=Xs)
    if len(Xs) < MIN_POINTS_FOR_HDBSCAN:
        labels = _best_linkage_cut(Xs, config)
    elif config.fit_sample is not None and len(Xs) > config.fit_sample:
        labels = _fit_sample_then_assign(Xs, config)
    else:
        labels = _best_clustering(Xs, _reduce(Xs, config), config)[0]
    labels = _canonical_numbers(labels)
    centroids = centroids_of(Xs, labels)
    out_labels = np.empty_like(labels)
    out_labels[order] = labels
    out_strength = np.empty(len(labels), dtype=np.float32)
    out_strength[order] = member_strength(Xs, labels, centroids)
    return ClusterResult(out_labels, out_strength, centroids)


def assign_to_centroids(
    X: np.ndarray, centroids: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid by cosine per row, or -1 below threshold; also each row's best cosine."""
    X = unit_rows(X)
    if len(X) == 0 or len(centroids) == 0:
        return np.full(len(X), -1, dtype=np.int64), np.zeros(len(X), dtype=np.float32)
    centroids = unit_rows(centroids)
    best = np.empty(len(X), dtype=np.int64)
    best_sims = np.empty(len(X), dtype=np.float32)
    # in blocks, so that 100k rows against a thousand centroids never hold 400 MB of cosines
    for start in range(0, len(X), ASSIGN_BLOCK):
        block = slice(start, start + ASSIGN_BLOCK)
        sims = X[block] @ centroids.T
        best[block] = np.argmax(sims, axis=1)
        best_sims[block] = sims[np.arange(len(sims)), best[block]]
    return np.where(best_sims >= threshold, best, -1).astype(np.int64), best_sims


def canonical_order(X: np.ndarray, norms: np.ndarray | None = None) -> np.ndarray:
    """Row order that depends only on the rows' (rounded) values, never on their input order.

    With norms, X's rows are ordered as `unit_rows` would make them (divided by their norm and
    rounded), without making them. The order is that of a lexsort on every column (the first
    column the primary key), found in two passes: a lexsort on the first ORDER_KEY_COLUMNS
    columns, then a full lexsort of only the rows still tied there (exact repeats, mostly). A
    lexsort on all 384 columns took ~6 s at 100k rows; rows equal after rounding are
    interchangeable.
    """
    if len(X) == 0:
        return np.zeros(0, dtype=np.int64)
    everything = np.arange(len(X))
    head = _values(X, norms, everything, ORDER_KEY_COLUMNS)
    order = np.lexsort(head.T[::-1]).astype(np.int64)
    same = np.all(head[order[1:]] == head[order[:-1]], axis=1)
    if not same.any():
        return order
    # runs of tied rows: each tie joins a row to the one before it
    tied = np.zeros(len(X), dtype=bool)
    tied[1:] |= same
    tied[:-1] |= same
    positions = np.flatnonzero(tied)
    run = np.cumsum(~np.concatenate(([False], same)))[positions]  # run number per tied row
    rows = order[positions]
    # both sorts are stable, so ties left after every column keep their input order, as in
    # one lexsort of the whole array
    order[positions] = rows[np.lexsort((*_values(X, norms, rows, X.shape[1]).T[::-1], run))]
    return order


def _values(X: np.ndarray, norms: np.ndarray | None, rows: np.ndarray,
            columns: int) -> np.ndarray:
    """The first columns of some rows, as unit_rows would make them when norms are given."""
    part = X[rows, :columns]
    if norms is None:
        return part
    part /= norms[rows, None]
    return np.round(part, KEY_DECIMALS, out=part)


def centroids_of(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Unit mean vector of each cluster 0..k-1 (k = labels.max() + 1), in X's space."""
    k = int(labels.max()) + 1 if len(labels) else 0
    return unit_rows(cluster_sums(X, labels, k))


def cluster_sums(X: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Sum of the rows of each cluster 0..k-1 (float64); noise rows count nowhere.

    A sparse one-hot product: np.add.at did the same in ~1 s per call at 100k rows, and a
    clustering computes centroids dozens of times. Rows go in blocks so that the float64 copy
    stays small.
    """
    from scipy.sparse import csr_matrix

    sums = np.zeros((k, X.shape[1]), dtype=np.float64)
    for start in range(0, len(X), SUM_BLOCK):
        block = labels[start:start + SUM_BLOCK]
        members = np.flatnonzero(block >= 0)
        one_hot = csr_matrix((np.ones(len(members)), (block[members], members)),
                             shape=(k, len(block)))
        sums += one_hot @ X[start:start + SUM_BLOCK].astype(np.float64)
    return sums


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
    return compact_labels(roots[labels])  # index -1 picks the trailing -1: noise stays noise


def unit_rows(X: np.ndarray, *, copy: bool = True) -> np.ndarray:
    """Rows divided by their norm and rounded to KEY_DECIMALS (zero rows stay zero), as float32.

    copy=False overwrites X when it is already a writable float32 array: a rebuild's own
    vectors, whose second copy would cost 150 MB at 100k.
    """
    X = _checked(X)
    norms = row_norms(X)[:, None]
    if copy or not X.flags.writeable:
        X = X / norms
    else:
        X /= norms
    return np.round(X, KEY_DECIMALS, out=X)


def row_norms(X: np.ndarray) -> np.ndarray:
    """Euclidean norm of each row, 1 where it is 0, as float32; a block at a time, so that the
    squares never fill an array the size of X."""
    norms = np.empty(len(X), dtype=np.float32)
    for start in range(0, len(X), SUM_BLOCK):
        norms[start:start + SUM_BLOCK] = np.linalg.norm(X[start:start + SUM_BLOCK], axis=1)
    norms[norms == 0] = 1.0
    return norms


def _checked(X: np.ndarray) -> np.ndarray:
    """X as a 2-d float32 array of finite values (a copy only when the dtype differs)."""
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2:
        raise ValueError(f"expected a 2-d array of embeddings, got shape {X.shape}")
    for start in range(0, len(X), SUM_BLOCK):
        if not np.isfinite(X[start:start + SUM_BLOCK]).all():
            raise ValueError("embeddings contain NaN or infinity")
    return X


def _best_clustering(
    X: np.ndarray, reduced: np.ndarray, config: ClusterConfig
) -> tuple[np.ndarray, float]:
    """HDBSCAN at each candidate size, finished at each merge threshold; `best_candidate` picks.

    Candidates run from the smallest size and the strictest merge. Returns the labels and their
    merge threshold.
    """
    tried = []
    for size in size_candidates(len(X), config):
        raw = _hdbscan(reduced, size, config)
        for merge in merge_candidates(config):
            labels = _finish(X, raw, replace(config, merge_threshold=merge))
            tried.append((separation(X, labels, config.seed), labels, merge))
    scores = [score for score, _, _ in tried]
    counts = [int(labels.max()) + 1 for _, labels, _ in tried]
    _, labels, merge = tried[best_candidate(scores, counts, len(X))]
    return labels, merge


def best_candidate(scores: list[float], clusters: list[int], n: int) -> int:
    """Which candidate clustering of n rows wins, given each one's separation and cluster count.

    The best separated; from FEWER_CLUSTERS_FROM rows the fewest clusters within
    SEPARATION_TOLERANCE of it. Ties go to fewer clusters, the better separated, then the earlier
    candidate; when none is separated (under two clusters everywhere), the first.
    """
    top = max(scores)
    if top <= 0:
        return scores.index(top)
    tolerance = SEPARATION_TOLERANCE if n >= FEWER_CLUSTERS_FROM else 0.0
    return min((k, -score, i) for i, (score, k) in enumerate(zip(scores, clusters, strict=True))
               if score >= top * (1 - tolerance))[2]


def merge_candidates(config: ClusterConfig) -> list[float]:
    """Near-duplicate merge thresholds to try, strictest first (see MERGE_LOOSENINGS)."""
    return [round(config.merge_threshold - step, 6) for step in MERGE_LOOSENINGS]


def _fit_sample_then_assign(X: np.ndarray, config: ClusterConfig) -> np.ndarray:
    """Cluster a seeded sample of the (canonically ordered) rows, then place every row.

    The sample is drawn from the canonical order, so the same rows in any order give the same
    sample. Sampled rows keep their fitted cluster; every other row joins its nearest sample
    centroid at the adoption threshold; then the clusters are finished once more on all rows
    (near-duplicates merged, strays evicted, near noise adopted), as a full fit's would be.
    """
    rng = np.random.default_rng(config.seed)
    sample = np.sort(rng.choice(len(X), size=config.fit_sample, replace=False))
    sample_X = X[sample]
    # "auto" means PCA here: UMAP and the size search took 143 s on 10k rows (cluster_eval,
    # load ~10), over a big rebuild's 60 s budget, and numba's compilation (20-90 s after a
    # start, UMAP's functions are not cached) stays out of big rebuilds
    reducer = "pca" if config.reducer == "auto" else config.reducer
    sample_labels, merge = _best_clustering(
        sample_X, _reduce(sample_X, replace(config, reducer=reducer)), config
    )
    if sample_labels.max() < 0:
        return np.full(len(X), -1, dtype=np.int64)
    rest = np.setdiff1d(np.arange(len(X)), sample)
    labels = np.full(len(X), -1, dtype=np.int64)
    labels[sample] = sample_labels
    centroids = centroids_of(sample_X, sample_labels)
    for start in range(0, len(rest), ASSIGN_BLOCK):  # in blocks: X[rest] would copy 130 MB
        block = rest[start:start + ASSIGN_BLOCK]
        labels[block] = assign_to_centroids(X[block], centroids, config.assign_threshold)[0]
    labels = merge_near_duplicates(X, labels, merge)
    return adopt_noise(X, _evict_strays(X, labels), config.assign_threshold)


def separation(X: np.ndarray, labels: np.ndarray, seed: int = 42) -> float:
    """Cosine silhouette of the clustered rows times the share clustered; -1 under 2 clusters.

    Picked the min_cluster_size within 0.03 NMI of the best on BANKING77 (100-3,080 rows),
    CLINC150 validation (400-3,000) and DSTC11 banking; the product with coverage keeps a size
    that leaves most rows unclustered from winning on a few tight clusters.
    """
    members = np.flatnonzero(labels >= 0)
    if len(np.unique(labels[members])) < 2:
        return -1.0
    from sklearn.metrics import silhouette_score

    if len(members) > SILHOUETTE_SAMPLE:
        members = np.sort(np.random.default_rng(seed).choice(members, SILHOUETTE_SAMPLE,
                                                             replace=False))
    if len(np.unique(labels[members])) < 2:
        return -1.0
    score = silhouette_score(X[members], labels[members], metric="cosine")
    return float(score) * float(np.mean(labels >= 0))


def _finish(X: np.ndarray, labels: np.ndarray, config: ClusterConfig) -> np.ndarray:
    """Dissolve loose clusters, merge near-duplicates, evict strays, adopt near noise."""
    labels = _dissolve_loose(X, labels)
    labels = merge_near_duplicates(X, labels, config.merge_threshold)
    labels = _evict_strays(X, labels)
    return adopt_noise(X, labels, config.assign_threshold)


def _hdbscan(reduced: np.ndarray, min_cluster_size: int, config: ClusterConfig) -> np.ndarray:
    """HDBSCAN labels, or one candidate cluster where it finds none."""
    import hdbscan

    model = hdbscan.HDBSCAN(
        min_cluster_size=min_cluster_size,
        min_samples=config.min_samples or max(1, min_cluster_size // 2),
        cluster_selection_method=SELECTION,
        # hdbscan's default starts 4 worker processes for core distances, each importing numpy
        # and copying the rows (~150 MB RSS each, seen at 100k): one process keeps a rebuild's
        # memory and CPU where they can be budgeted and measured; the labels are the same
        core_dist_n_jobs=1,
    )
    labels = model.fit_predict(reduced).astype(np.int64)
    # No density structure: either one tight theme (e.g. the same quote repeated) or none at all;
    # _dissolve_loose tells which.
    return labels if labels.max() >= 0 else np.zeros(len(reduced), dtype=np.int64)


def _dissolve_loose(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Send clusters whose mean pairwise cosine is below MIN_COHESION back to noise."""
    members = labels >= 0
    sizes = np.bincount(labels[members], minlength=int(labels.max()) + 1).astype(np.float64)
    sums = cluster_sums(X, labels, len(sizes))
    # |sum|^2 = m + m(m-1) * mean pairwise cosine, for unit rows
    pairs = np.maximum(sizes * (sizes - 1), 1.0)
    cohesion = ((sums**2).sum(axis=1) - sizes) / pairs
    loose = np.append(cohesion < MIN_COHESION, False)  # trailing slot: noise stays noise
    return compact_labels(np.where(loose[labels], -1, labels))


def compact_labels(labels: np.ndarray) -> np.ndarray:
    """Renumber clusters 0..k-1 keeping their order; noise stays -1."""
    ids, inverse = np.unique(labels, return_inverse=True)
    return (inverse - (1 if len(ids) and ids[0] < 0 else 0)).astype(np.int64)


def _best_linkage_cut(X: np.ndarray, config: ClusterConfig) -> np.ndarray:
    """Average-linkage groups at each of `linkage_cuts`, finished; the best separated wins."""
    if len(X) < 2:
        return np.full(len(X), -1, dtype=np.int64)
    from scipy.cluster.hierarchy import linkage

    tree = linkage(X.astype(np.float64), method="average", metric="cosine")
    tried = [_finish(X, _linkage_groups(tree, cut), config) for cut in linkage_cuts(config)]
    scores = [separation(X, labels, config.seed) for labels in tried]
    counts = [int(labels.max()) + 1 for labels in tried]
    return tried[best_candidate(scores, counts, len(X))]


def linkage_cuts(config: ClusterConfig) -> list[float]:
    """Mean cosines at which the average linkage is cut, strictest first (LINKAGE_CUT_STEP)."""
    steps = round((config.assign_threshold - STRAY_COSINE) / LINKAGE_CUT_STEP)
    return [round(config.assign_threshold - i * LINKAGE_CUT_STEP, 6) for i in range(steps + 1)]


def _linkage_groups(tree: np.ndarray, cut: float) -> np.ndarray:
    """Groups of >= 2 rows whose mean cosine clears cut in an average-linkage tree; the rest -1."""
    from scipy.cluster.hierarchy import fcluster

    groups = fcluster(tree, t=1.0 - cut, criterion="distance")
    keep = np.bincount(groups)[groups] >= 2
    labels = np.full(len(groups), -1, dtype=np.int64)
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
        _cache_umap_compilation()
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


@functools.cache
def _cache_umap_compilation() -> None:
    """Has numba keep UMAP's compiled functions on disk, so a process's first UMAP does not
    compile them again (~10 s of CPU; 20-90 s of wall on 2 busy cores).

    umap-learn does not ask numba to cache them (pynndescent, which it uses, does); enabling it
    on the dispatchers before their first call is what `cache=True` does. The machine code goes
    to umap's __pycache__ in the venv, or to NUMBA_CACHE_DIR where that is set (a read-only
    install), and numba recompiles when umap's source changes.
    """
    from numba.core.dispatcher import Dispatcher

    for name in UMAP_MODULES:
        for value in vars(importlib.import_module(name)).values():
            if isinstance(value, Dispatcher) and value.stats.cache_path is None:
                value.enable_caching()


def _evict_strays(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Members below STRAY_COSINE to their own centroid become noise (and may be adopted later)."""
    members = np.flatnonzero(labels >= 0)
    sims = _member_cosines(X, labels, centroids_of(X, labels))
    labels = labels.copy()
    labels[members[sims < STRAY_COSINE]] = -1
    return compact_labels(labels)


def adopt_noise(X: np.ndarray, labels: np.ndarray, threshold: float) -> np.ndarray:
    """Noise rows whose cosine to the nearest centroid is >= threshold join that cluster."""
    noise = labels < 0
    if not noise.any() or labels.max() < 0:
        return labels
    labels = labels.copy()
    labels[noise] = assign_to_centroids(X[noise], centroids_of(X, labels), threshold)[0]
    return labels


def member_strength(X: np.ndarray, labels: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Cosine of each member to its cluster's centroid, clipped to 0..1; noise 0.

    Chosen over HDBSCAN's probabilities, which are undefined for exact duplicates (common in
    quotes) and do not exist for adopted noise.
    """
    strength = np.zeros(len(X), dtype=np.float32)
    strength[labels >= 0] = np.clip(_member_cosines(X, labels, centroids), 0.0, 1.0)
    return strength


def _member_cosines(X: np.ndarray, labels: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Cosine of each member (in row order) to its cluster's centroid, a block at a time."""
    members = np.flatnonzero(labels >= 0)
    sims = np.empty(len(members), dtype=np.float32)
    for start in range(0, len(members), ASSIGN_BLOCK):
        rows = members[start:start + ASSIGN_BLOCK]
        sims[start:start + len(rows)] = np.einsum("ij,ij->i", X[rows], centroids[labels[rows]])
    return sims


def _canonical_numbers(labels: np.ndarray) -> np.ndarray:
    """Renumber clusters 0..k-1 by size (largest first), ties by their first row in canonical order."""
    ids, first, size = np.unique(labels[labels >= 0], return_index=True, return_counts=True)
    ranked = ids[np.lexsort((first, -size))]
    mapping = np.full(int(labels.max()) + 2 if len(ids) else 1, -1, dtype=np.int64)
    mapping[ranked] = np.arange(len(ranked))
    return mapping[labels]  # noise (-1) reads the trailing -1
