"""Clustering quality on a labelled corpus: our recipe against the common UMAP+HDBSCAN baseline.

    python benchmarks/cluster_eval.py --input ../shared/eval/banking77/train.csv
    python benchmarks/cluster_eval.py --input ../shared/eval/dstc11-banking/utterances.jsonl \
        --text-field utterance --label-field intent
    python benchmarks/cluster_eval.py --input /tmp/clinc150/test.jsonl --sample 500 --seed 1

--sample N draws N rows at random (seeded) after embedding the whole file, so one cache serves
every size. CLINC150 (CC BY 3.0, github.com/clinc/oos-eval data/data_full.json) is not in the
repository: write its "val"/"test" pairs as JSONL lines {"text", "category"}.

Embeddings are cached under /tmp, keyed by the input file's hash, the row limit and the model, so a
rerun skips the ~30 s of encoding. The baseline needs umap-learn (`pip install -e .[bench]`).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from pipelines.cluster import ClusterConfig, cluster_embeddings

MODEL_NAME = "all-MiniLM-L6-v2"
CACHE_DIR = Path("/tmp/verbatim-embeddings")


@dataclass(frozen=True)
class Scores:
    """The figures printed for one clustering of one corpus."""

    nmi: float
    ari: float
    acc: float
    coverage: float
    clusters: int
    seconds: float


def read_labelled(path: Path, text_field: str, label_field: str, limit: int | None):
    """Texts and gold labels from a CSV (header row) or a JSONL file."""
    with path.open(encoding="utf-8") as fh:
        if path.suffix == ".jsonl":
            rows = [json.loads(line) for line in fh if line.strip()]
        else:
            rows = list(csv.DictReader(fh))
    rows = rows[:limit] if limit else rows
    return [r[text_field] for r in rows], [r[label_field] for r in rows]


def embed_cached(path: Path, texts: list[str]) -> np.ndarray:
    """Embed with the real model, reusing a /tmp cache keyed by file hash, row count and model."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    cache = CACHE_DIR / f"{digest}-{len(texts)}-{MODEL_NAME}.npy"
    if cache.exists():
        print(f"embeddings: cached {cache}")
        return np.load(cache)
    from pipelines.embed import SentenceEmbedder
    from pipelines.nlp_models import load_sentence_model

    start = time.perf_counter()
    vectors = SentenceEmbedder(load_sentence_model()).encode(texts)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    np.save(cache, vectors)
    print(f"embeddings: computed in {time.perf_counter() - start:.1f}s, cached to {cache}")
    return vectors


def hungarian_accuracy(gold: np.ndarray, pred: np.ndarray) -> float:
    """Accuracy under the best one-to-one match of predicted clusters (noise = one more) to gold."""
    _, g = np.unique(gold, return_inverse=True)
    _, p = np.unique(pred, return_inverse=True)
    counts = np.zeros((p.max() + 1, g.max() + 1), dtype=np.int64)
    np.add.at(counts, (p, g), 1)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, cols].sum() / len(gold))


def score(gold: np.ndarray, labels: np.ndarray, seconds: float) -> Scores:
    """NMI, ARI and Hungarian accuracy with noise (-1) counted as its own cluster."""
    return Scores(
        nmi=float(normalized_mutual_info_score(gold, labels)),
        ari=float(adjusted_rand_score(gold, labels)),
        acc=hungarian_accuracy(gold, labels),
        coverage=float(np.mean(labels >= 0)),
        clusters=len(set(labels.tolist()) - {-1}),
        seconds=seconds,
    )


def ours(X: np.ndarray) -> np.ndarray:
    return cluster_embeddings(X, ClusterConfig()).labels


def baseline(X: np.ndarray) -> np.ndarray:
    """The common BERTopic-style recipe: UMAP to 5 cosine dims, then HDBSCAN(min_cluster_size=10)."""
    import hdbscan
    import umap

    reduced = umap.UMAP(
        n_neighbors=15, n_components=5, metric="cosine", random_state=42
    ).fit_transform(X)
    return hdbscan.HDBSCAN(min_cluster_size=10).fit_predict(reduced)


def warm_up_umap(X: np.ndarray) -> None:
    """Pay numba's one-off compilation (8-60 s) before anything is timed."""
    import umap

    start = time.perf_counter()
    umap.UMAP(metric="cosine", n_epochs=5, random_state=0, n_jobs=1).fit(X[:5000])
    print(
        f"umap warm-up (numba compilation, not in the timings): {time.perf_counter() - start:.1f}s"
    )


def timed(method: Callable[[np.ndarray], np.ndarray], X: np.ndarray, gold: np.ndarray) -> Scores:
    start = time.perf_counter()
    labels = method(X)
    return score(gold, labels, time.perf_counter() - start)


def print_table(results: dict[str, Scores]) -> None:
    print(f"{'method':<10}{'NMI':>7}{'ARI':>7}{'ACC':>7}{'cover':>7}{'k':>6}{'sec':>8}")
    for name, s in results.items():
        print(
            f"{name:<10}{s.nmi:>7.3f}{s.ari:>7.3f}{s.acc:>7.3f}"
            f"{s.coverage:>7.3f}{s.clusters:>6d}{s.seconds:>8.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--text-field", default="text")
    parser.add_argument("--label-field", default="category")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--sample", type=int, default=None, help="draw this many rows at random")
    parser.add_argument("--seed", type=int, default=0, help="seed of --sample")
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()

    texts, gold_names = read_labelled(args.input, args.text_field, args.label_field, args.limit)
    gold = np.unique(gold_names, return_inverse=True)[1]
    X = embed_cached(args.input, texts)
    if args.sample and args.sample < len(X):
        rows = np.sort(np.random.default_rng(args.seed).choice(len(X), args.sample, replace=False))
        X, gold = X[rows], np.unique(gold[rows], return_inverse=True)[1]
    print(f"{args.input.name}: {len(X)} texts, {gold.max() + 1} gold labels")
    warm_up_umap(X)
    results = {"ours": timed(ours, X, gold)}
    if not args.skip_baseline:
        results["baseline"] = timed(baseline, X, gold)
    print_table(results)


if __name__ == "__main__":
    main()
