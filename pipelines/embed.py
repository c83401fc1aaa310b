"""Sentence embeddings behind a tiny protocol, so tests and benchmarks can swap the model."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

# Recently encoded texts kept in memory: extraction encodes a call's segments and the job then
# encodes its mention quotes, which are mostly the same strings (21% of all encodes on the demo).
CACHE_TEXTS = 20_000
BATCH_SIZE = 64


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


class CachedEmbedder:
    """Each distinct text reaches the model once; subclasses say how a list of new texts is encoded."""

    dim: int

    def __init__(self, cache_size: int = CACHE_TEXTS) -> None:
        self._cache = VectorCache(cache_size)

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
        raise NotImplementedError


class SentenceEmbedder(CachedEmbedder):
    """Wraps a loaded SentenceTransformer; vectors are L2-normalised float32, each text encoded once."""

    def __init__(self, model: Any, batch_size: int = BATCH_SIZE,
                 cache_size: int = CACHE_TEXTS) -> None:
        super().__init__(cache_size)
        self._model = model
        self._batch_size = batch_size
        dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dim = int(dim() or 384)

    def _encode_model(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(
            texts,
            batch_size=self._batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return np.asarray(vectors, dtype=np.float32)


class OnnxEmbedder(CachedEmbedder):
    """The same transformer exported to ONNX (see pipelines/onnx_export.py), run by onnxruntime.

    Mean pooling and L2 normalisation match the sentence-transformers pipeline it was exported
    from; the export refused to write it unless its vectors agreed with that pipeline's."""

    def __init__(self, folder: Path, *, threads: int | None = None,
                 batch_size: int = BATCH_SIZE, cache_size: int = CACHE_TEXTS) -> None:
        super().__init__(cache_size)
        meta = json.loads((folder / "meta.json").read_text())
        self.dim = int(meta["dim"])
        self.folder = folder
        self._batch_size = batch_size
        self._tokenizer = _tokenizer(folder / "tokenizer.json", int(meta["max_seq_length"]))
        self._session = _session(folder / "model.onnx", threads)

    def _encode_model(self, texts: list[str]) -> np.ndarray:
        # sentence-transformers strips each text before tokenising; so must we to match it
        ids = [e.ids for e in self._tokenizer.encode_batch([t.strip() for t in texts])]
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for rows in length_batches([len(row) for row in ids], self._batch_size):
            out[rows] = self._run([ids[i] for i in rows])
        return out

    def _run(self, ids: list[list[int]]) -> np.ndarray:
        input_ids, mask = _pad(ids)
        hidden = self._session.run(None, {"input_ids": input_ids, "attention_mask": mask,
                                          "token_type_ids": np.zeros_like(input_ids)})[0]
        return mean_pool_normalise(hidden, mask)


# A batch takes texts of nearly the same length: up to LENGTH_SLACK times the shortest's tokens
# plus LENGTH_EXTRA. Every row is padded to the batch's longest and the padding is computed like
# real tokens; a call's few dozen sentences in one batch were 2.4x their real tokens on the demo
# calls, 1.15x in these batches, for half the encoding time. Padding never changes a vector
# (it is masked), so neither does the batching.
LENGTH_SLACK = 1.3
LENGTH_EXTRA = 4


def length_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Row indices grouped into batches of similar length, shortest first."""
    batches: list[list[int]] = []
    current: list[int] = []
    for i in np.argsort(lengths, kind="stable").tolist():
        full = len(current) >= batch_size
        if current and (full or lengths[i] > lengths[current[0]] * LENGTH_SLACK + LENGTH_EXTRA):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def mean_pool_normalise(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean of the token vectors under the attention mask, scaled to unit length."""
    weights = mask[..., None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


def _pad(ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    width = max(len(row) for row in ids)
    # padded positions are masked out of attention and pooling, so the pad id never shows
    input_ids = np.zeros((len(ids), width), dtype=np.int64)
    mask = np.zeros((len(ids), width), dtype=np.int64)
    for i, row in enumerate(ids):
        input_ids[i, :len(row)] = row
        mask[i, :len(row)] = 1
    return input_ids, mask


def _tokenizer(path: Path, max_length: int) -> Any:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()  # we pad per length-sorted batch
    tokenizer.enable_truncation(max_length=max_length)
    return tokenizer


def _session(path: Path, threads: int | None) -> Any:
    import os

    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or os.cpu_count() or 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # keep its start-up notices out of our logs
    # Idle pool threads sleep instead of spinning for the next batch. A call's sentences make
    # many small batches, and between them a spinning thread burned the core that spaCy, the
    # API or another worker needed: on the busy 2-core machine the demo calls' segments took
    # 16.9 CPU-s to encode spinning, 8.8 without (benchmarks/pipeline_floor_output.txt).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
