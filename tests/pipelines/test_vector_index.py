"""The nearest-neighbour index: add, search, replace, remove, save and load."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.vector_index import HnswIndex


def _topics(n_topics: int = 8, per: int = 50, dims: int = 64, seed: int = 0):
    """Unit rows around n_topics random centres, and each row's topic."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_topics, dims))
    topic = np.repeat(np.arange(n_topics), per)
    X = centres[topic] + rng.normal(scale=0.3, size=(len(topic), dims))
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32), topic


def test_nearest_are_the_exact_nearest_best_first():
    X, _ = _topics()
    index = HnswIndex(X.shape[1])
    ids = np.arange(len(X)) * 3 + 7  # ids need not be dense
    index.add(ids, X)
    assert len(index) == len(X) and np.array_equal(index.ids(), np.sort(ids))
    for q in (0, 123, 399):
        found, sims = index.search(X[q], 10)
        exact = ids[np.argsort(-(X @ X[q]))[:10]]
        assert found[0] == ids[q] and sims[0] == pytest.approx(1.0, abs=1e-3)
        assert len(set(found) & set(exact)) >= 9
        assert np.all(np.diff(sims) <= 1e-6)
        assert np.allclose(sims, X[(found - 7) // 3] @ X[q], atol=2e-3)


def test_an_id_added_again_is_replaced_and_removed_ids_are_never_found():
    X, _ = _topics()
    index = HnswIndex(X.shape[1])
    index.add(np.arange(len(X)), X)
    index.add(np.array([5]), X[300:301])  # id 5 now holds row 300's vector
    assert len(index) == len(X)
    assert set(index.search(X[300], 2)[0]) == {5, 300}
    index.remove(np.array([300, 10_000]))  # an unknown id is ignored
    assert len(index) == len(X) - 1
    assert 300 not in index.search(X[300], 50)[0]


def test_saved_and_loaded_it_answers_the_same(tmp_path):
    X, _ = _topics()
    index = HnswIndex(X.shape[1])
    index.add(np.arange(len(X)), X)
    index.save(tmp_path / "ws1.usearch")
    loaded = HnswIndex.load(tmp_path / "ws1.usearch")
    assert len(loaded) == len(X) and loaded.dims == X.shape[1]
    assert np.array_equal(loaded.search(X[42], 5)[0], index.search(X[42], 5)[0])
    assert not list(tmp_path.glob("*.partial"))


def test_bad_input_is_refused(tmp_path):
    index = HnswIndex(8)
    assert len(index.search(np.ones(8), 5)[0]) == 0  # empty index: no hits
    with pytest.raises(ValueError, match="dims"):
        index.add(np.array([1]), np.ones((1, 9)))
    with pytest.raises(ValueError, match="unique"):
        index.add(np.array([1, 1]), np.ones((2, 8)))
    with pytest.raises(ValueError, match="negative"):
        index.add(np.array([-1]), np.ones((1, 8)))
    with pytest.raises(ValueError, match="dims"):
        index.search(np.ones(3), 1)
    (tmp_path / "junk.usearch").write_bytes(b"not an index")
    with pytest.raises(ValueError, match="not a vector index"):
        HnswIndex.load(tmp_path / "junk.usearch")
