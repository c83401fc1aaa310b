"""The compact embedding store: float16 with a tag, old float32 blobs still read."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.vectors import is_compact, pack, unpack, unpack_many


def _unit(rng: np.random.Generator, n: int, dims: int = 384) -> np.ndarray:
    X = rng.normal(size=(n, dims)).astype(np.float32)
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def test_round_trip_keeps_the_meaning_at_half_the_bytes():
    X = _unit(np.random.default_rng(0), 50)
    blobs = [pack(x) for x in X]
    assert all(len(b) == 1 + 2 * 384 for b in blobs)
    back = unpack_many(blobs)
    assert back.dtype == np.float32 and back.shape == X.shape
    cosines = np.einsum("ij,ij->i", back, X) / np.linalg.norm(back, axis=1)
    assert cosines.min() > 0.99999


def test_old_float32_blobs_read_as_they_were():
    x = _unit(np.random.default_rng(1), 1)[0]
    old = x.tobytes()
    assert not is_compact(old) and is_compact(pack(x))
    assert np.array_equal(unpack(old), x)


def test_the_length_tells_the_formats_apart_for_any_dimension():
    # 192 float32 values and 384 float16 ones are both 768 bytes: the tag byte decides
    x = np.linspace(-1, 1, 192, dtype=np.float32)
    assert np.array_equal(unpack(x.tobytes()), x)
    y = np.linspace(-1, 1, 384, dtype=np.float32)
    assert np.allclose(unpack(pack(y)), y, atol=1e-3)


def test_nothing_stored_reads_as_empty_and_garbage_is_refused():
    assert unpack(None).shape == (0,) and unpack(b"").shape == (0,)
    assert unpack_many([], dims=384).shape == (0, 384)
    with pytest.raises(ValueError, match="not an embedding"):
        unpack(b"\x02ab")  # odd length without the tag
    with pytest.raises(ValueError, match="not an embedding"):
        unpack(b"ab")  # even, but no whole float32
    with pytest.raises(ValueError, match="NaN"):
        pack(np.array([np.nan, 1.0]))
