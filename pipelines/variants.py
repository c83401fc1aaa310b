"""Phrasing variants: near-identical quotes within a cluster, grouped with counts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Rows compared at once; keeps memory at BLOCK x n similarities instead of n x n.
BLOCK = 1024


def group_variants(
    texts: Sequence[str], embeddings: np.ndarray, threshold: float = 0.9
) -> list[list[int]]:
    """Partition rows into groups of near-identical phrasings (cosine >= threshold to the leader).

    Every row is in exactly one group (singletons included). A group's first index is its leader:
    the row with most near-identical neighbours, ties to the shorter text, then the text itself, so
    the grouping does not depend on input order. Biggest group first.
    """
    if len(texts) != len(embeddings):
        raise ValueError(f"{len(texts)} texts but {len(embeddings)} embeddings")
    if len(texts) == 0:
        return []
    X = _unit(embeddings)
    neighbours = _neighbours(X, threshold)
    keys = [" ".join(t.lower().split()) for t in texts]
    order = sorted(range(len(texts)), key=lambda i: (-len(neighbours[i]), len(keys[i]), keys[i], i))
    free = np.ones(len(texts), dtype=bool)
    groups: list[list[int]] = []
    for leader in order:
        if not free[leader]:
            continue
        members = [int(j) for j in neighbours[leader] if free[j] and j != leader]
        sims = X[members] @ X[leader]
        members = [members[k] for k in np.lexsort((members, -sims))] if members else []
        free[[leader, *members]] = False
        groups.append([leader, *members])
    return sorted(groups, key=lambda g: (-len(g), keys[g[0]], g[0]))


def _neighbours(X: np.ndarray, threshold: float) -> list[np.ndarray]:
    """For each row, the indices of rows (itself included) with cosine >= threshold."""
    out: list[np.ndarray] = []
    for start in range(0, len(X), BLOCK):
        sims = X[start : start + BLOCK] @ X.T
        out.extend(np.flatnonzero(row >= threshold) for row in sims)
    return out


def _unit(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float32)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.where(norms > 0, norms, 1.0)


def by_representativeness(groups: list[list[int]], centrality: np.ndarray) -> list[list[int]]:
    """Groups ordered by their members' mean similarity to the theme, most typical first.

    Within a group the most central member leads, so the wording shown is the group's most
    typical one. Ties keep the size order of group_variants.
    """
    centrality = np.asarray(centrality, dtype=np.float64)
    led = [sorted(g, key=lambda i: (-centrality[i], i)) for g in groups]
    order = sorted(range(len(led)), key=lambda k: (-float(centrality[led[k]].mean()), k))
    return [led[k] for k in order]
