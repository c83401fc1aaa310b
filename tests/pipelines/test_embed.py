"""The embedders: each distinct text reaches the model once; the ONNX export keeps the meaning."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from pipelines import onnx_export
from pipelines.embed import (
    LENGTH_EXTRA,
    LENGTH_SLACK,
    OnnxEmbedder,
    SentenceEmbedder,
    VectorCache,
    length_batches,
)
from pipelines.nlp_models import load_embedder, load_sentence_model, sentence_model_path


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


# --- the ONNX backend -------------------------------------------------------------------------

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _demo_texts(calls: int = 6) -> list[str]:
    texts: list[str] = []
    for path in sorted(SAMPLES.glob("*.json"))[:calls]:
        texts += [u["text"] for u in json.loads(path.read_text())["utterances"]]
    return texts


@pytest.fixture(scope="session")
def onnx_root(tmp_path_factory):
    """The shipped weights exported (and gated) into a temporary model folder, once."""
    root = tmp_path_factory.mktemp("models")
    onnx_export.export(sentence_model_path(), root)
    return root


@pytest.fixture(scope="session")
def onnx_embedder(onnx_root):
    return OnnxEmbedder(onnx_export.exported_model(sentence_model_path(), onnx_root))


@pytest.mark.slow
def test_onnx_vectors_agree_with_sentence_transformers_on_demo_calls(onnx_embedder, embedder):
    texts = list(dict.fromkeys(_demo_texts()))
    ours, theirs = onnx_embedder.encode(texts), embedder.encode(texts)
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= 0.99, cosines.min()
    ours_sim, theirs_sim = ours @ ours.T, theirs @ theirs.T
    np.fill_diagonal(ours_sim, -1)
    np.fill_diagonal(theirs_sim, -1)
    assert (ours_sim.argmax(1) == theirs_sim.argmax(1)).mean() >= 0.98
    assert ours.dtype == np.float32 and np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_length_batches_hold_every_row_once_with_similar_lengths():
    lengths = [3, 40, 5, 12, 4, 41, 90, 6, 13, 5] * 20
    batches = length_batches(lengths, batch_size=8)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    for batch in batches:
        shortest, longest = min(lengths[i] for i in batch), max(lengths[i] for i in batch)
        assert len(batch) <= 8 and longest <= shortest * LENGTH_SLACK + LENGTH_EXTRA
    # a short text never waits in a batch of long ones: 3-6 tokens share batches, 90 stands alone
    assert [lengths[i] for i in batches[0]] == [3] * 8
    assert {lengths[i] for i in batches[-1]} == {90}


@pytest.mark.slow
def test_onnx_vector_does_not_depend_on_its_batch(onnx_root):
    folder = onnx_export.exported_model(sentence_model_path(), onnx_root)
    alone = OnnxEmbedder(folder, cache_size=0).encode(["too expensive"])
    long_turn = "We would need sign-off from legal, security and finance first. " * 40
    batched = OnnxEmbedder(folder, cache_size=0).encode([long_turn, "too expensive"])
    assert np.allclose(alone[0], batched[1], atol=1e-5)


@pytest.mark.slow
def test_onnx_pool_threads_sleep_between_batches(onnx_embedder):
    options = onnx_embedder._session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


@pytest.mark.slow
def test_export_refuses_a_model_that_drifts(tmp_path):
    source = sentence_model_path()
    broken = onnx_export.load_transformer(source)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():  # noise on the word embeddings: the graph runs, the meaning is gone
        weights = broken.embeddings.word_embeddings.weight
        weights.add_(torch.randn(weights.shape, generator=generator) * weights.std())
    staged, dest = tmp_path / "staged", tmp_path / "dest"
    onnx_export.stage(source, staged, broken)
    with pytest.raises(onnx_export.GateFailedError, match="min cosine"):
        onnx_export.install(staged, dest, reference=load_sentence_model())
    assert not dest.exists()
    assert onnx_export.exported_model(source, tmp_path) is None


def test_an_export_from_other_weights_is_ignored(tmp_path):
    folder = tmp_path / onnx_export.EXPORT_NAME
    folder.mkdir()
    (folder / "model.onnx").write_bytes(b"")
    source = sentence_model_path()
    (folder / "meta.json").write_text(json.dumps({"source_sha256": "0" * 64}))
    assert onnx_export.exported_model(source, tmp_path) is None
    (folder / "meta.json").write_text(
        json.dumps({"source_sha256": onnx_export.source_fingerprint(source)}))
    assert onnx_export.exported_model(source, tmp_path) == folder


@pytest.mark.slow
def test_load_embedder_prefers_the_export_and_falls_back_to_torch(onnx_root, tmp_path,
                                                                   monkeypatch):
    monkeypatch.setenv(onnx_export.MODEL_DIR_ENV, str(onnx_root))
    assert isinstance(load_embedder(), OnnxEmbedder)
    monkeypatch.setenv(onnx_export.MODEL_DIR_ENV, str(tmp_path))
    assert isinstance(load_embedder(), SentenceEmbedder)
