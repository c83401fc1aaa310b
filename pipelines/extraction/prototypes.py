"""Similarity of sentence vectors to per-category and reference prototype sentences."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipelines.embed import Embedder
from pipelines.extraction.reference_sentences import (
    BACKCHANNEL_PROTOTYPES,
    NEUTRAL_PROTOTYPES,
    PAIN_PROTOTYPES,
)
from pipelines.extraction.taxonomy import Category

TOP_K = 3  # mean of the k nearest prototypes: steadier than the single nearest one


@dataclass(frozen=True)
class Similarities:
    """Per-row similarities: categories is (n, len(taxonomy)); the others are (n,)."""

    categories: np.ndarray
    neutral: np.ndarray
    pain: np.ndarray
    backchannel: np.ndarray

    def row(self, i: int) -> tuple[float, float, float, float]:
        """(best category, neutral, pain, backchannel) similarity of row i."""
        return (
            float(self.categories[i].max(initial=0.0)),
            float(self.neutral[i]),
            float(self.pain[i]),
            float(self.backchannel[i]),
        )


class PrototypeIndex:
    """Encodes the prototypes once; `similarities` scores new vectors against them."""

    def __init__(self, embedder: Embedder, taxonomy: Sequence[Category]) -> None:
        groups = [c.prototypes for c in taxonomy]
        groups += [NEUTRAL_PROTOTYPES, PAIN_PROTOTYPES, BACKCHANNEL_PROTOTYPES]
        if any(not group for group in groups):
            raise ValueError("every category needs at least one prototype sentence")
        texts = [text for group in groups for text in group]
        vectors = embedder.encode(texts)
        bounds = np.cumsum([0, *(len(group) for group in groups)])
        self._bounds = list(itertools.pairwise(bounds))
        self._prototypes = np.ascontiguousarray(vectors)
        self._n_categories = len(taxonomy)
        self.dim = int(vectors.shape[1])

    def similarities(self, vectors: np.ndarray) -> Similarities:
        """Top-k mean cosine similarity of each row to each prototype group."""
        # one product against every prototype, then split by group: a dozen small products
        # cost more in call overhead than in arithmetic
        every = vectors @ self._prototypes.T
        scores = [top_k_mean(every[:, a:b]) for a, b in self._bounds]
        n = self._n_categories
        categories = np.stack(scores[:n], axis=1) if len(vectors) else np.zeros((0, n))
        return Similarities(categories, scores[n], scores[n + 1], scores[n + 2])


def top_k_mean(sims: np.ndarray, k: int = TOP_K) -> np.ndarray:
    """Mean of each row's k largest values (all of them when a row has fewer)."""
    if sims.shape[1] == 0 or sims.shape[0] == 0:
        return np.zeros(sims.shape[0], dtype=np.float32)
    k = min(k, sims.shape[1])
    return np.sort(sims, axis=1)[:, -k:].mean(axis=1)
