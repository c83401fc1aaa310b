"""Theme quality in small categories: draws of 10-29 rows shaped like one category's mentions.

    python -m benchmarks.cluster_small      (from the repository root; dev data only)

A draw holds themes of 2-12 rows (one BANKING77 train intent each) and, in half the draws, 40% of
stray rows (one row each of other intents), as a category holds mentions no theme explains. Only
the themes' rows are scored (as benchmarks/demo_theme_eval.py scores only labelled quotes): NMI
and ARI with noise as one more cluster, coverage the share of them in a cluster.

Two corpora: BANKING77 train as it is, and "buried", each utterance joined with two customer
turns that state no objection (the extraction train split), in random order. Buried intents sit at
a median pairwise cosine of 0.37 against 0.58 plain, nearer the 0.26 of the demo's freely worded
objection quotes. Embeddings are cached under /tmp (cluster_eval.embed_cached).
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from benchmarks.cluster_eval import CACHE_DIR, embed_cached
from benchmarks.cluster_shapes import BANKING, Corpus, load
from pipelines.cluster import cluster_embeddings
from pipelines.extraction.training.labels import load_turns

SIZES = (10, 15, 20, 29)
STRAY_SHARES = (0.0, 0.4)
SEEDS = range(8)
THEME_ROWS = (2, 12)


def buried(corpus: Corpus, per_intent: int = 12, chatter_turns: int = 2, seed: int = 0) -> Corpus:
    """Each of per_intent utterances of every intent among chatter_turns non-objection turns."""
    rng = np.random.default_rng(seed)
    chatter = sorted(t.text for t in load_turns() if t.split == "train" and not t.objections)
    texts, gold = [], []
    for intent in np.unique(corpus.gold):
        for row in rng.permutation(np.flatnonzero(corpus.gold == intent))[:per_intent]:
            parts = [chatter[int(rng.integers(len(chatter)))].strip() for _ in range(chatter_turns)]
            parts.insert(int(rng.integers(len(parts) + 1)), corpus.texts[row].strip())
            texts.append(" ".join(parts))
            gold.append(intent)
    path = CACHE_DIR / f"banking77-buried-{per_intent}-{seed}-{chatter_turns}.jsonl"
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    return Corpus(texts, np.asarray(gold), embed_cached(path, texts))


def category_draw(gold: np.ndarray, n: int, stray_share: float,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n rows: themes of THEME_ROWS rows from random intents, then strays; gold -1 for a stray."""
    intents = rng.permutation(np.unique(gold))
    themed = round(n * (1 - stray_share))
    rows: list[int] = []
    labels: list[int] = []
    used = 0
    while len(rows) < themed:
        size = min(int(rng.integers(THEME_ROWS[0], THEME_ROWS[1] + 1)), themed - len(rows))
        rows += rng.choice(np.flatnonzero(gold == intents[used]), size, replace=False).tolist()
        labels += [int(intents[used])] * size
        used += 1
    for intent in intents[used:used + n - len(rows)]:
        rows.append(int(rng.choice(np.flatnonzero(gold == intent))))
        labels.append(-1)
    return np.array(rows), np.array(labels)


def scores(corpus: Corpus, n: int, stray_share: float) -> np.ndarray:
    """Mean NMI, ARI, coverage and cluster count over the seeded draws of one shape."""
    out = []
    for seed in SEEDS:
        rows, gold = category_draw(corpus.gold, n, stray_share,
                                   np.random.default_rng(seed * 1000 + n))
        out.append(theme_scores(gold, cluster_embeddings(corpus.X[rows]).labels))
    return np.mean(out, axis=0)


def theme_scores(gold: np.ndarray, labels: np.ndarray) -> tuple[float, float, float, int]:
    """NMI, ARI and coverage over the rows that belong to a theme (gold >= 0; strays are left
    out), and how many themes were found."""
    themed = gold >= 0
    return (normalized_mutual_info_score(gold[themed], labels[themed]),
            adjusted_rand_score(gold[themed], labels[themed]),
            float(np.mean(labels[themed] >= 0)), int(labels.max() + 1))


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    print(f"load before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} (1/5/15 min)")
    plain = load(BANKING, "text", "category")
    cpu = time.process_time()
    print(f"{'corpus':<9}{'n':>4}{'strays':>8} | {'NMI':>6}{'ARI':>7}{'cover':>7}{'k':>6}")
    for name, corpus in (("plain", plain), ("buried", buried(plain))):
        table = []
        for n in SIZES:
            for share in STRAY_SHARES:
                row = scores(corpus, n, share)
                table.append(row)
                print(f"{name:<9}{n:>4}{share:>8.1f} | {row[0]:>6.3f}{row[1]:>7.3f}{row[2]:>7.3f}"
                      f"{row[3]:>6.1f}")
        mean = np.mean(table, axis=0)
        print(f"{name:<9}{'mean':>12} | {mean[0]:>6.3f}{mean[1]:>7.3f}{mean[2]:>7.3f}"
              f"{mean[3]:>6.1f}")
    print(f"clustering CPU {time.process_time() - cpu:.1f} s; load after: "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
