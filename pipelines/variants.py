"""Phrasing variants: near-identical quotes within a cluster, grouped with counts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def group_variants(texts: Sequence[str], embeddings: np.ndarray,
                   threshold: float = 0.9) -> list[list[int]]:
    """Greedy grouping around the most connected quote; biggest group first, deterministic."""
    n = len(texts)
    if n == 0:
        return []
    X = np.asarray(embeddings, dtype=np.float32)
    sims = X @ X.T
    norm = [" ".join(t.lower().split()) for t in texts]
    close = (sims >= threshold) | np.array([[a == b for b in norm] for a in norm])
    left = set(range(n))
    groups: list[list[int]] = []
    while left:
        idx = sorted(left)
        degree = {i: int(close[i, idx].sum()) for i in idx}
        seed = max(idx, key=lambda i: (degree[i], -i))
        group = sorted(i for i in idx if close[seed, i])
        groups.append([seed] + [i for i in group if i != seed])
        left -= set(group)
    return sorted(groups, key=lambda g: (-len(g), g[0]))
