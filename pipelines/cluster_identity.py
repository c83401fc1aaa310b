"""Carry cluster ids across rebuilds: which new cluster is which old one, what split, what merged."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

# A new cluster may keep an old id when most of one side came from the other...
MAJORITY = 0.5
# ...and their centroids still say the same thing (guards against ids drifting across topics).
MIN_CENTROID_COSINE = 0.5
# A split piece must carry this share of the old cluster: a few old members among new mentions
# are a new theme, not a split.
MIN_PIECE = 0.1
# With no shared members at all (mentions re-extracted), only a near-identical centroid keeps an id.
CENTROID_ONLY_COSINE = 0.9


@dataclass(frozen=True)
class PrevCluster:
    """A cluster from the last build: its stable id, member mention keys and unit centroid."""

    id: str
    members: frozenset[str]
    centroid: np.ndarray


@dataclass(frozen=True)
class Matching:
    """ids: new cluster -> kept old id or None (a new theme).

    splits: old id -> the new clusters made mostly of it (the one keeping the id first).
    merges: new cluster -> the old ids mostly absorbed by it (the one whose id it kept first).
    disappeared: old ids that no new cluster kept (merged away, dissolved or gone), sorted.
    """

    ids: Mapping[int, str | None]
    splits: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    merges: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    disappeared: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Pair:
    old: int
    new: int
    shared: int
    old_share: float  # of the old cluster's members still clustered, the part found in new
    new_share: float  # of the new cluster's members that existed before, the part from old
    cosine: float


def match_clusters(
    prev: Sequence[PrevCluster],
    new_members: dict[int, set[str]],
    new_centroids: np.ndarray,
) -> Matching:
    """Match new clusters to previous ones by shared members, then by centroid; deterministic."""
    new_ids = sorted(new_members)
    pairs = _overlaps(prev, new_members, new_centroids)
    kept: dict[int, int] = {}  # new -> index into prev
    taken: set[int] = set()
    # Most shared members first: the biggest piece of a split and the biggest part of a merge win.
    for p in sorted(pairs, key=lambda p: (-p.shared, -p.cosine, prev[p.old].id, p.new)):
        if _qualifies(p) and p.new not in kept and p.old not in taken:
            kept[p.new] = p.old
            taken.add(p.old)
    _match_by_centroid(prev, new_ids, new_centroids, kept)
    ids = {j: (prev[kept[j]].id if j in kept else None) for j in new_ids}
    return Matching(
        ids=ids,
        splits=_splits(prev, pairs, kept),
        merges=_merges(prev, pairs, kept),
        disappeared=tuple(sorted({c.id for c in prev} - {v for v in ids.values() if v})),
    )


def _overlaps(
    prev: Sequence[PrevCluster], new_members: dict[int, set[str]], new_centroids: np.ndarray
) -> list[_Pair]:
    owner: dict[str, list[int]] = defaultdict(list)
    for i, cluster in enumerate(prev):
        for member in cluster.members:
            owner[member].append(i)
    now_clustered = set().union(*new_members.values()) if new_members else set()
    old_alive = [len(c.members & now_clustered) for c in prev]
    pairs = []
    for j in sorted(new_members):
        counts = Counter(i for m in new_members[j] for i in owner.get(m, ()))
        existed = sum(1 for m in new_members[j] if m in owner)
        for i, shared in counts.items():
            pairs.append(
                _Pair(
                    old=i,
                    new=j,
                    shared=shared,
                    old_share=shared / old_alive[i],
                    new_share=shared / existed,
                    cosine=_cosine(prev[i].centroid, new_centroids[j]),
                )
            )
    return pairs


def _qualifies(p: _Pair) -> bool:
    return max(p.old_share, p.new_share) >= MAJORITY and p.cosine >= MIN_CENTROID_COSINE


def _match_by_centroid(
    prev: Sequence[PrevCluster], new_ids: list[int], centroids: np.ndarray, kept: dict[int, int]
) -> None:
    """Pair leftover new and old clusters whose centroids are near-identical, best first."""
    taken = set(kept.values())
    free_new = [j for j in new_ids if j not in kept]
    free_old = [i for i in range(len(prev)) if i not in taken]
    if not free_new or not free_old:
        return
    sims = _unit(np.stack([prev[i].centroid for i in free_old])) @ _unit(centroids[free_new]).T
    close = np.argwhere(sims >= CENTROID_ONLY_COSINE)
    candidates = [
        (float(sims[a, b]), prev[free_old[a]].id, free_new[b], free_old[a]) for a, b in close
    ]
    for _, _, j, i in sorted(candidates, key=lambda c: (-c[0], c[1], c[2])):
        if j not in kept and i not in taken:
            kept[j] = i
            taken.add(i)


def _splits(
    prev: Sequence[PrevCluster], pairs: list[_Pair], kept: dict[int, int]
) -> dict[str, tuple[int, ...]]:
    pieces: dict[int, list[_Pair]] = defaultdict(list)
    for p in pairs:
        if p.new_share >= MAJORITY and p.old_share >= MIN_PIECE:
            pieces[p.old].append(p)
    return {
        prev[i].id: tuple(
            p.new for p in sorted(ps, key=lambda p: (kept.get(p.new) != i, -p.shared, p.new))
        )
        for i, ps in sorted(pieces.items(), key=lambda kv: prev[kv[0]].id)
        if len(ps) > 1
    }


def _merges(
    prev: Sequence[PrevCluster], pairs: list[_Pair], kept: dict[int, int]
) -> dict[int, tuple[str, ...]]:
    parts: dict[int, list[_Pair]] = defaultdict(list)
    for p in pairs:
        if p.old_share >= MAJORITY:
            parts[p.new].append(p)
    return {
        j: tuple(
            prev[p.old].id
            for p in sorted(ps, key=lambda p: (kept.get(j) != p.old, -p.shared, prev[p.old].id))
        )
        for j, ps in sorted(parts.items())
        if len(ps) > 1
    }


def _unit(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.where(norms > 0, norms, 1.0)


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    norms = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.dot(a, b) / norms) if norms > 0 else 0.0
