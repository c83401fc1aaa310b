"""Theme quality across corpus shapes: our recipe against the common UMAP+HDBSCAN one, one table.

    python -m benchmarks.cluster_shapes [--skip-dstc11]     (from the repository root; make bench-cluster)

Shapes, all from ../shared/eval (BANKING77 train, DSTC11 banking as the held-out set):
- random samples of 100 / 500 / 3,080 BANKING77 rows and 100 DSTC11 rows (seeded; mean and min);
- "many small": 30 rows of every BANKING77 intent (77 x 30 = 2,310);
- "few large": the 6 biggest BANKING77 intents, 150 rows each;
- "long": two same-intent BANKING77 utterances joined into one text, 10 per intent;
- DSTC11 whole (407 rows, 50+ intents).

Loading, embedding (cached under /tmp), both recipes and the scores come from cluster_eval. The
common recipe's labels are cached too (it is seeded, so a rerun gives the same ones), so that a
change to ours costs only ours. A row is flagged `below` where our NMI is under the common
recipe's, `goal` where our NMI is under 0.85 or our coverage under 0.95.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.cluster_eval import (
    CACHE_DIR,
    Scores,
    baseline,
    embed_cached,
    ours,
    read_labelled,
    score,
    warm_up_umap,
)

EVAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "eval"
BANKING = EVAL / "banking77" / "train.csv"
DSTC11 = EVAL / "dstc11-banking" / "utterances.jsonl"
GOAL_NMI = 0.85
GOAL_COVER = 0.95


@dataclass(frozen=True)
class Corpus:
    texts: list[str]
    gold: np.ndarray  # intent index per row
    X: np.ndarray


@dataclass(frozen=True)
class Shape:
    """One row of the table: a name and the row sets (one per seed) of one corpus."""

    name: str
    corpus: Corpus
    draws: list[np.ndarray]


def load(path: Path, text_field: str, label_field: str) -> Corpus:
    texts, names = read_labelled(path, text_field, label_field, None)
    return Corpus(texts, np.unique(names, return_inverse=True)[1], embed_cached(path, texts))


def random_draws(n_rows: int, size: int, seeds: list[int]) -> list[np.ndarray]:
    return [np.sort(np.random.default_rng(s).choice(n_rows, size, replace=False)) for s in seeds]


def per_intent(gold: np.ndarray, per: int, intents: np.ndarray, seed: int = 0) -> np.ndarray:
    """`per` seeded rows of each intent in `intents`."""
    rng = np.random.default_rng(seed)
    rows = [rng.choice(np.flatnonzero(gold == i), per, replace=False) for i in intents]
    return np.sort(np.concatenate(rows))


def long_texts(corpus: Corpus, pairs_per_intent: int, seed: int = 0) -> Corpus:
    """Two same-intent utterances joined into one text, embedded (and cached) as a corpus."""
    rng = np.random.default_rng(seed)
    texts, gold = [], []
    for intent in np.unique(corpus.gold):
        rows = rng.permutation(np.flatnonzero(corpus.gold == intent))[: 2 * pairs_per_intent]
        for a, b in zip(rows[0::2], rows[1::2], strict=False):
            texts.append(f"{corpus.texts[a].strip()} {corpus.texts[b].strip()}")
            gold.append(intent)
    # embed_cached keys its cache on a file's bytes: the joined texts get a file of their own
    path = CACHE_DIR / f"banking77-long-{pairs_per_intent}-{seed}.jsonl"
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    return Corpus(texts, np.asarray(gold), embed_cached(path, texts))


def common_cached(X: np.ndarray) -> np.ndarray:
    """The common recipe's labels for X, from a /tmp cache keyed by X's bytes."""
    cache = CACHE_DIR / f"common-{hashlib.sha256(X.tobytes()).hexdigest()[:16]}.npy"
    if cache.exists():
        return np.load(cache)
    labels = baseline(X)
    np.save(cache, labels)
    return labels


def evaluate(shape: Shape) -> tuple[list[Scores], list[Scores]]:
    mine, common = [], []
    for rows in shape.draws:
        X = shape.corpus.X[rows]
        gold = np.unique(shape.corpus.gold[rows], return_inverse=True)[1]
        start = time.perf_counter()
        mine.append(score(gold, ours(X), time.perf_counter() - start))
        start = time.perf_counter()
        common.append(score(gold, common_cached(X), time.perf_counter() - start))
    return mine, common


def summary(runs: list[Scores], how) -> tuple[float, float, float, float]:
    return tuple(how([getattr(s, f) for s in runs]) for f in ("nmi", "ari", "coverage", "clusters"))


def print_header() -> None:
    print(f"{'shape':<22}{'n':>6}{'k':>5} | {'ours NMI':>8}{'ARI':>7}{'cover':>7}{'k':>6}"
          f" | {'comm NMI':>8}{'ARI':>7}{'cover':>7}{'k':>6} | {'ours s':>7}  flag")


def print_row(name: str, n: int, k: int, mine, common, seconds: float) -> None:
    flags = []
    if mine[0] < common[0]:
        flags.append("below")
    if mine[0] < GOAL_NMI or mine[2] < GOAL_COVER:
        flags.append("goal")
    print(f"{name:<22}{n:>6}{k:>5} | {mine[0]:>8.3f}{mine[1]:>7.3f}{mine[2]:>7.3f}{mine[3]:>6.0f}"
          f" | {common[0]:>8.3f}{common[1]:>7.3f}{common[2]:>7.3f}{common[3]:>6.0f}"
          f" | {seconds:>7.1f}  {' '.join(flags)}")


def report(shape: Shape, mine: list[Scores], common: list[Scores]) -> None:
    n = len(shape.draws[0])
    k = int(np.mean([len(np.unique(shape.corpus.gold[r])) for r in shape.draws]))
    seconds = float(np.mean([s.seconds for s in mine]))
    if len(shape.draws) == 1:
        print_row(shape.name, n, k, summary(mine, np.mean), summary(common, np.mean), seconds)
        return
    print_row(f"{shape.name} mean", n, k, summary(mine, np.mean), summary(common, np.mean),
              seconds)
    print_row(f"{shape.name} min", n, k, summary(mine, np.min), summary(common, np.min), seconds)


def shapes(banking: Corpus, dstc11: Corpus | None) -> list[Shape]:
    n = len(banking.gold)
    intents, counts = np.unique(banking.gold, return_counts=True)
    biggest = intents[np.argsort(-counts, kind="stable")[:6]]
    long = long_texts(banking, pairs_per_intent=10)
    out = [
        Shape("b77 random", banking, random_draws(n, 100, [0, 1, 2])),
        Shape("b77 random", banking, random_draws(n, 500, [0, 1, 2])),
        Shape("b77 random", banking, random_draws(n, 3080, [0, 1])),
        Shape("b77 many small 77x30", banking, [per_intent(banking.gold, 30, intents)]),
        Shape("b77 few large 6x150", banking, [per_intent(banking.gold, 150, biggest)]),
        Shape("b77 long pairs 77x10", long, [np.arange(len(long.gold))]),
    ]
    if dstc11 is not None:
        m = len(dstc11.gold)
        out += [
            Shape("dstc11 random", dstc11, random_draws(m, 100, [0, 1, 2])),
            Shape("dstc11 whole", dstc11, [np.arange(m)]),
        ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-dstc11", action="store_true", help="BANKING77 shapes only")
    args = parser.parse_args()
    print(f"load before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}"
          f" {os.getloadavg()[2]:.2f} (1/5/15 min)")
    wall = time.perf_counter()
    banking = load(BANKING, "text", "category")
    dstc11 = None if args.skip_dstc11 else load(DSTC11, "utterance", "intent")
    table = shapes(banking, dstc11)
    warm_up_umap(banking.X[:3000])
    print_header()
    for shape in table:
        report(shape, *evaluate(shape))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"total: {time.perf_counter() - wall:.0f} s wall, {usage.ru_utime + usage.ru_stime:.0f}"
          f" s CPU; load after: {' '.join(f'{v:.2f}' for v in os.getloadavg())} (1/5/15 min)")


if __name__ == "__main__":
    main()
