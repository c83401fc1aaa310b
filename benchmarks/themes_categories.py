"""Themes of a whole workspace whose extractor files some mentions under the wrong category.

    python -m benchmarks.themes_categories      (from the repository root; dev data only)

A draw is one workspace of 9 categories of 22-60 mentions each (the demo's range), 44 calls: half
of a category's rows are themes of 2-12 rows from its own 5 BANKING77 train intents, the other half
strays from 32 intents no category owns. Then a share of all rows ("wrong": 0, 0.1, 0.22, the
last the demo's share of planted objections extracted under another category) moves to a random
other category. find_themes runs as a rebuild runs it; the themes' rows are scored as in
benchmarks/cluster_small.py (NMI, ARI, coverage, themes), on BANKING77 plain and buried.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from benchmarks.cluster_shapes import BANKING, Corpus, load
from benchmarks.cluster_small import THEME_ROWS, buried, theme_scores
from pipelines.themes import find_themes

CATEGORIES = 9
INTENTS_PER_CATEGORY = 5
CATEGORY_ROWS = (22, 60)
STRAY_SHARE = 0.5
CALLS = 44
WRONG_SHARES = (0.0, 0.1, 0.22)
SEEDS = range(5)


def category_rows(corpus: Corpus, own: np.ndarray, strays: np.ndarray,
                  rng: np.random.Generator) -> tuple[list[int], list[int]]:
    """One category's rows and gold (-1 for a stray): themes from its own intents, then strays."""
    n = int(rng.integers(CATEGORY_ROWS[0], CATEGORY_ROWS[1] + 1))
    themed = round(n * (1 - STRAY_SHARE))
    rows: list[int] = []
    gold: list[int] = []
    for intent in own:
        if len(rows) >= themed:
            break
        candidates = np.flatnonzero(corpus.gold == intent)
        size = min(int(rng.integers(THEME_ROWS[0], THEME_ROWS[1] + 1)), themed - len(rows),
                   len(candidates))
        rows += rng.choice(candidates, size, replace=False).tolist()
        gold += [int(intent)] * size
    picked = rng.choice(strays, n - len(rows), replace=False).tolist()
    return rows + picked, gold + [-1] * len(picked)


def workspace(corpus: Corpus, wrong: float, rng: np.random.Generator):
    """Rows, gold, categories (a `wrong` share moved to another) and calls of one workspace."""
    intents = rng.permutation(np.unique(corpus.gold))
    strays = np.flatnonzero(np.isin(corpus.gold, intents[CATEGORIES * INTENTS_PER_CATEGORY:]))
    rows: list[int] = []
    gold: list[int] = []
    categories: list[int] = []
    for c in range(CATEGORIES):
        own = intents[c * INTENTS_PER_CATEGORY:(c + 1) * INTENTS_PER_CATEGORY]
        r, g = category_rows(corpus, own, strays, rng)
        strays = np.setdiff1d(strays, r)
        rows += r
        gold += g
        categories += [c] * len(r)
    filed = np.array(categories)
    moved = rng.random(len(filed)) < wrong
    filed[moved] = (filed[moved] + rng.integers(1, CATEGORIES, int(moved.sum()))) % CATEGORIES
    return (np.array(rows), np.array(gold), [f"c{c}" for c in filed],
            rng.integers(0, CALLS, len(rows)).tolist())


def scores(corpus: Corpus, wrong: float) -> np.ndarray:
    """Mean NMI, ARI, coverage and theme count over the seeded workspaces."""
    out = []
    for seed in SEEDS:
        rows, gold, categories, calls = workspace(corpus, wrong, np.random.default_rng(seed))
        out.append(theme_scores(gold, find_themes(corpus.X[rows], categories, calls).labels))
    return np.mean(out, axis=0)


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    print(f"load before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} (1/5/15 min)")
    plain = load(BANKING, "text", "category")
    cpu = time.process_time()
    print(f"{'corpus':<9}{'wrong':>7} | {'NMI':>6}{'ARI':>7}{'cover':>7}{'themes':>8}")
    for name, corpus in (("plain", plain), ("buried", buried(plain))):
        for wrong in WRONG_SHARES:
            row = scores(corpus, wrong)
            print(f"{name:<9}{wrong:>7.2f} | {row[0]:>6.3f}{row[1]:>7.3f}{row[2]:>7.3f}"
                  f"{row[3]:>8.1f}", flush=True)
    print(f"clustering CPU {time.process_time() - cpu:.1f} s; load after: "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
