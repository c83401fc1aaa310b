"""Sentence embeddings behind a tiny protocol, so tests and benchmarks can swap the model."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

# Recently encoded texts kept in memory: extraction encodes a call's segments and the job then
# encodes its mention quotes, which are mostly the same strings (21% of all encodes on the demo).
CACHE_TEXTS = 20_000


class Embedder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


class VectorCache:
    """A bounded, thread-safe least-recently-used map from text to its vector."""

    def __init__(self, capacity: int = CACHE_TEXTS) -> None:
        self._capacity = capacity
        self._rows: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get_many(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        with self._lock:
            found = {t: self._rows[t] for t in texts if t in self._rows}
            for text in found:
                self._rows.move_to_end(text)
        return found

    def put_many(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        with self._lock:
            for text, vector in zip(texts, vectors, strict=True):
                self._rows[text] = vector
                self._rows.move_to_end(text)
            while len(self._rows) > self._capacity:
                self._rows.popitem(last=False)


class SentenceEmbedder:
    """Wraps a loaded SentenceTransformer; vectors are L2-normalised float32, each text encoded once."""

    def __init__(self, model: Any, batch_size: int = 64, cache_size: int = CACHE_TEXTS) -> None:
        self._model = model
        self._batch_size = batch_size
        self._cache = VectorCache(cache_size)
        dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dim = int(dim() or 384)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        known = self._cache.get_many(texts)
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            fresh = self._encode_model(missing)
            self._cache.put_many(missing, fresh)
            known.update(zip(missing, fresh, strict=True))
        return np.stack([known[t] for t in texts]).astype(np.float32, copy=False)

    def _encode_model(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(
            texts,
            batch_size=self._batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return np.asarray(vectors, dtype=np.float32)
