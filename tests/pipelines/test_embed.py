"""The embedder wrapper: each distinct text reaches the model once, order and values preserved."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.embed import SentenceEmbedder, VectorCache


class CountingModel:
    """Stands in for SentenceTransformer in this unit test: vectors derived from the text."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def get_embedding_dimension(self) -> int:
        return 4

    def encode(self, texts, **_: object) -> np.ndarray:
        self.seen.extend(texts)
        rows = np.array([[len(t), t.count("a"), t.count("e"), 1.0] for t in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_each_text_reaches_the_model_once():
    model = CountingModel()
    embedder = SentenceEmbedder(model)
    first = embedder.encode(["too expensive", "we use Gong", "too expensive"])
    second = embedder.encode(["we use Gong", "legal says no"])
    assert model.seen == ["too expensive", "we use Gong", "legal says no"]
    assert np.array_equal(first[1], second[0])
    assert np.array_equal(first[0], first[2])
    assert first.dtype == np.float32 and first.shape == (3, 4)


def test_cache_drops_the_least_recently_used():
    cache = VectorCache(capacity=2)
    cache.put_many(["a", "b"], np.eye(2, dtype=np.float32))
    cache.get_many(["a"])
    cache.put_many(["c"], np.ones((1, 2), dtype=np.float32))
    assert set(cache.get_many(["a", "b", "c"])) == {"a", "c"}


def test_empty_input_gives_an_empty_matrix():
    assert SentenceEmbedder(CountingModel()).encode([]).shape == (0, 4)


@pytest.mark.slow
def test_cached_vectors_equal_fresh_ones(embedder):
    texts = ["The price is way over our budget this year.", "Legal won't sign a three-year term."]
    fresh = embedder.encode(texts)
    again = embedder.encode(list(reversed(texts)))
    assert np.allclose(fresh, again[::-1])
    assert np.allclose(np.linalg.norm(fresh, axis=1), 1.0, atol=1e-5)
