"""Embeddings as stored: float16 with a one-byte format tag, read back as float32.

Half the bytes of the float32 blobs written before, which stay readable: a tagged blob has an odd
length (1 + 2 x dims), an old float32 blob a multiple of 4, so the length tells which. float16
keeps ~3 significant digits; on unit MiniLM vectors the cosine to the float32 original is above
0.99999, far below any threshold the clustering or search uses.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

FLOAT16_TAG = b"\x01"


def pack(vector: np.ndarray) -> bytes:
    """The compact blob of one embedding."""
    values = np.asarray(vector, dtype=np.float32).ravel()
    if not np.isfinite(values).all():
        raise ValueError("embedding contains NaN or infinity")
    return FLOAT16_TAG + values.astype("<f2").tobytes()


def unpack(blob: bytes | None) -> np.ndarray:
    """float32 vector of a compact or an old float32 blob; empty for None."""
    if not blob:
        return np.zeros(0, dtype=np.float32)
    if len(blob) % 2 == 1 and blob[:1] == FLOAT16_TAG:
        return np.frombuffer(blob, dtype="<f2", offset=1).astype(np.float32)
    if len(blob) % 4 == 0:
        return np.frombuffer(blob, dtype="<f4").astype(np.float32)
    raise ValueError(f"not an embedding blob ({len(blob)} bytes)")


def unpack_many(blobs: Sequence[bytes | None], dims: int | None = None) -> np.ndarray:
    """Rows of float32 vectors, one per blob (dims needed only when there may be no blob).

    Written into one preallocated array: a list of 100k small arrays stacked afterwards held
    twice the memory of the result.
    """
    if not blobs:
        return np.zeros((0, dims or 0), dtype=np.float32)
    first = unpack(blobs[0])
    out = np.empty((len(blobs), len(first)), dtype=np.float32)
    for i, blob in enumerate(blobs):
        row = unpack(blob)
        if len(row) != len(first):
            raise ValueError(f"embeddings of {len(first)} and {len(row)} dims")
        out[i] = row
    return out


def is_compact(blob: bytes | None) -> bool:
    """Whether a blob is already in the compact format (old float32 ones are converted later)."""
    return bool(blob) and len(blob) % 2 == 1 and blob[:1] == FLOAT16_TAG
