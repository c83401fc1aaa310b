"""Clustering at 10k and 100k mentions: time, peak memory, order stability, id stability.

    python benchmarks/cluster_scale.py [--sizes 10000,100000] [--reducers umap,pca]

The corpora are synthetic but built from real text: rows sampled (with replacement) from the
BANKING77 train embeddings, each moved by Gaussian noise of norm ~0.3 (cosine ~0.96 to its source)
and renormalised, so topics keep their real shape and sizes while no two rows are identical.
Stability: the same rows shuffled must give ARI 1.0 and the very same label numbers; then 10%
new mentions arrive and match_clusters says how many cluster ids survive the rebuild.
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from cluster_eval import embed_cached, read_labelled, warm_up_umap
from sklearn.metrics import adjusted_rand_score

from pipelines.cluster import ClusterConfig, ClusterResult, cluster_embeddings, size_candidates
from pipelines.cluster_identity import PrevCluster, match_clusters

DEFAULT_INPUT = Path(__file__).resolve().parents[2] / "shared/eval/banking77/train.csv"
NOISE_NORM = 0.3
NEW_SHARE = 0.1


@dataclass(frozen=True)
class Run:
    result: ClusterResult
    seconds: float
    traced_peak_mb: float


def synthetic(base: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n rows drawn from base, each perturbed by noise of norm ~NOISE_NORM, unit length."""
    rows = base[rng.integers(0, len(base), n)]
    noise = rng.normal(0.0, NOISE_NORM / np.sqrt(base.shape[1]), rows.shape)
    X = (rows + noise).astype(np.float32)
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def timed_run(X: np.ndarray, config: ClusterConfig) -> Run:
    """Cluster X; tracemalloc sees numpy's allocations, not those inside numba-compiled code."""
    tracemalloc.start()
    start = time.perf_counter()
    result = cluster_embeddings(X, config)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return Run(result, seconds, peak / 2**20)


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def order_stability(X: np.ndarray, first: ClusterResult, config: ClusterConfig, seed: int):
    """ARI between the run on X and on X shuffled, and whether label numbers match exactly."""
    perm = np.random.default_rng(seed).permutation(len(X))
    shuffled = cluster_embeddings(X[perm], config).labels
    back = np.empty_like(shuffled)
    back[perm] = shuffled
    return adjusted_rand_score(first.labels, back), bool(np.array_equal(first.labels, back))


def previous_clusters(result: ClusterResult) -> list[PrevCluster]:
    return [
        PrevCluster(
            id=f"c{label}",
            members=frozenset(str(i) for i in np.flatnonzero(result.labels == label)),
            centroid=result.centroids[label],
        )
        for label in range(result.n_clusters)
    ]


def id_stability(X: np.ndarray, first: ClusterResult, config: ClusterConfig, extra: np.ndarray):
    """Rebuild with extra rows appended; share of old ids kept, plus the matching's counts."""
    grown = cluster_embeddings(np.vstack([X, extra]), config)
    members = {
        label: {str(i) for i in np.flatnonzero(grown.labels == label)}
        for label in range(grown.n_clusters)
    }
    prev = previous_clusters(first)
    matching = match_clusters(prev, members, grown.centroids)
    kept = sum(1 for v in matching.ids.values() if v is not None)
    return {
        "kept_share": kept / max(len(prev), 1),
        "old": len(prev),
        "new": grown.n_clusters,
        "brand_new": grown.n_clusters - kept,
        "splits": len(matching.splits),
        "merges": len(matching.merges),
        "disappeared": len(matching.disappeared),
    }


def measure(base: np.ndarray, n: int, reducer: str, rng: np.random.Generator) -> None:
    config = ClusterConfig(reducer=reducer)
    X = synthetic(base, n, rng)
    sizes = size_candidates(n, config)
    run = timed_run(X, config)
    coverage = float(np.mean(run.result.labels >= 0))
    print(
        f"{reducer:>5} n={n:>7,}: {run.seconds:7.1f}s  clusters={run.result.n_clusters:4d}  "
        f"coverage={coverage:.3f}  min_cluster_size tried {sizes}  "
        f"traced peak={run.traced_peak_mb:7.1f} MiB  max RSS so far={max_rss_mb():7.1f} MiB",
        flush=True,
    )
    ari, same = order_stability(X, run.result, config, seed=n)
    print(f"      shuffled input: ARI={ari:.4f}  identical label numbers={same}", flush=True)
    ids = id_stability(X, run.result, config, synthetic(base, int(n * NEW_SHARE), rng))
    print(
        f"      +{NEW_SHARE:.0%} new mentions: ids kept {ids['kept_share']:.1%} "
        f"({ids['old']} old -> {ids['new']} new clusters, {ids['brand_new']} brand new, "
        f"{ids['splits']} splits, {ids['merges']} merges, {ids['disappeared']} old ids gone)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--reducers", default="umap,pca")
    args = parser.parse_args()

    texts, _ = read_labelled(args.input, "text", "category", None)
    base = embed_cached(args.input, texts)
    print(f"synthetic corpora from {len(base)} real embeddings of {args.input.name}")
    reducers = args.reducers.split(",")
    if "umap" in reducers:
        warm_up_umap(base)
    print(f"max RSS before clustering: {max_rss_mb():.1f} MiB")
    rng = np.random.default_rng(0)
    for reducer in reducers:
        for n in (int(s) for s in args.sizes.split(",")):
            measure(base, n, reducer, rng)


if __name__ == "__main__":
    main()
