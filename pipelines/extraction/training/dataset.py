"""Segment-level training rows from turn-level labels.

Each turn runs through steps 1-4; a candidate segment overlapping a gold quote is positive with
that quote's category, every other segment (set-up, numbers, small talk, all of a negative turn)
is negative. Vectors and features are computed once and cached on disk by text, so candidates
and refits do not pay the embedder again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from pipelines.extraction.step2_cues import DATA_DIR
from pipelines.extraction.step5_model import (
    RULE_FEATURES,
    blank_model,
    category_inputs,
    objection_inputs,
)
from pipelines.extraction.step7_extractor import Extractor, ScoredSegment
from pipelines.extraction.taxonomy import DEFAULT_TAXONOMY, category_names
from pipelines.extraction.training.labels import Turn

CATEGORIES = category_names(DEFAULT_TAXONOMY)


@dataclass(frozen=True)
class Segments:
    """Aligned arrays, one row per candidate segment of every turn."""

    turn: np.ndarray  # index into the turn list
    start: np.ndarray  # character offsets in the turn's text
    end: np.ndarray
    label: np.ndarray  # 1 when the segment overlaps a gold quote
    category: np.ndarray  # index into CATEGORIES, -1 for negatives
    turn_label: np.ndarray  # 1 when the segment's turn holds an objection
    objection_x: np.ndarray
    category_x: np.ndarray
    legacy_p: np.ndarray  # the old logistic model's probability (the baseline)
    legacy_category: np.ndarray  # the old category weights' choice
    texts: tuple[str, ...]

    def rows(self, mask: np.ndarray) -> Segments:
        """The subset of rows where mask is true."""
        picked = np.flatnonzero(mask)
        return Segments(
            *(getattr(self, f)[picked] for f in _ARRAY_FIELDS),
            texts=tuple(self.texts[k] for k in picked),
        )


_ARRAY_FIELDS = (
    "turn",
    "start",
    "end",
    "label",
    "category",
    "turn_label",
    "objection_x",
    "category_x",
    "legacy_p",
    "legacy_category",
)


def gold_category(turn: Turn, start: int, end: int) -> int:
    """The category index of the first gold quote the span overlaps, -1 when none."""
    for objection in turn.objections:
        q_start = turn.text.find(objection.quote)
        if q_start < end and start < q_start + len(objection.quote):
            return CATEGORIES.index(objection.category)
    return -1


def training_extractor(nlp, embedder) -> Extractor:
    """An extractor with a blank model: steps 1-4 and vectors, no decisions."""
    return Extractor(nlp, embedder, model=blank_model(embedder.dim, CATEGORIES))


def build_segments(extractor: Extractor, turns: Sequence[Turn]) -> Segments:
    """Run steps 1-4 on every turn and label each candidate segment."""
    scored = extractor.score([t.text for t in turns], [t.context for t in turns])
    rows: list[tuple[int, ScoredSegment]] = [
        (k, s) for k, segs in enumerate(scored) for s in segs
    ]
    return _as_arrays(extractor, turns, rows)


def _as_arrays(
    extractor: Extractor, turns: Sequence[Turn], rows: list[tuple[int, ScoredSegment]]
) -> Segments:
    dim = extractor.index.dim
    vectors = np.stack([s.vector for _, s in rows]) if rows else np.zeros((0, dim))
    contexts = np.stack([s.context_vector for _, s in rows]) if rows else np.zeros((0, dim))
    n_evidence = 3 * len(extractor.model.categories)
    evidence = np.array(
        [extractor.model_evidence(s.evidence) for _, s in rows], dtype=np.float32
    ).reshape(len(rows), n_evidence)
    starts = np.array([s.segment.start_char for _, s in rows], dtype=int)
    ends = np.array([s.segment.end_char for _, s in rows], dtype=int)
    categories = np.array(
        [gold_category(turns[k], a, b) for (k, _), a, b in zip(rows, starts, ends, strict=True)],
        dtype=int,
    )
    scorers = extractor.scorers
    return Segments(
        turn=np.array([k for k, _ in rows], dtype=int),
        start=starts,
        end=ends,
        label=(categories >= 0).astype(int),
        category=categories,
        turn_label=np.array([int(turns[k].objection) for k, _ in rows], dtype=int),
        objection_x=objection_inputs(vectors, contexts, [s.features for _, s in rows]),
        category_x=category_inputs(vectors, evidence),
        legacy_p=np.array([scorers.objection.probability(s.features) for _, s in rows]),
        legacy_category=np.array(
            [
                int(np.argmax(scorers.category.scores(s.evidence, s.context)))
                for _, s in rows
            ],
            dtype=int,
        ),
        texts=tuple(s.segment.text for _, s in rows),
    )


def features_key() -> str:
    """Changes whenever the pattern files, the taxonomy or the rule features change."""
    digest = hashlib.sha256("|".join(RULE_FEATURES).encode())
    for path in sorted(DATA_DIR.glob("*.jsonl")):
        digest.update(path.read_bytes())
    digest.update(repr(DEFAULT_TAXONOMY).encode())
    return digest.hexdigest()[:16]


def turn_key(turn: Turn) -> str:
    """A turn's identity for the cache: its text, context and gold labels."""
    raw = f"{turn.text}\x00{turn.context}\x00{turn.objections!r}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:20]


def concat(parts: Sequence[Segments]) -> Segments:
    """Segment arrays one after another (turn indices are left as they are)."""
    return Segments(
        *(np.concatenate([getattr(p, f) for p in parts]) for f in _ARRAY_FIELDS),
        texts=tuple(t for p in parts for t in p.texts),
    )


def _read_cache(path: Path) -> tuple[Segments, np.ndarray] | None:
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as raw:
        segments = Segments(
            *(raw[f] for f in _ARRAY_FIELDS), texts=tuple(str(t) for t in raw["texts"])
        )
        return segments, raw["keys"]


def load_or_build(extractor: Extractor, turns: Sequence[Turn], cache_dir: Path) -> Segments:
    """build_segments for every turn, reusing rows of turns seen before (cached by turn)."""
    path = cache_dir / f"segments-{features_key()}.npz"
    keys = [turn_key(t) for t in turns]
    cached = _read_cache(path)
    known = {} if cached is None else _rows_by_key(*cached)
    missing = [k for k, key in enumerate(keys) if key not in known]
    if missing:
        fresh = build_segments(extractor, [turns[k] for k in missing])
        fresh_keys = np.array([keys[missing[t]] for t in fresh.turn])
        if cached is not None:
            fresh = concat([cached[0], fresh])
            fresh_keys = np.concatenate([cached[1], fresh_keys])
        cache_dir.mkdir(parents=True, exist_ok=True)
        arrays = {f: getattr(fresh, f) for f in _ARRAY_FIELDS}
        np.savez_compressed(path, texts=np.array(fresh.texts, dtype=str), keys=fresh_keys, **arrays)
        known = _rows_by_key(fresh, fresh_keys)
    parts = []
    for index, key in enumerate(keys):
        part = known.get(key)
        if part is None:  # a turn with no candidate segment ("yeah")
            continue
        parts.append(replace(part, turn=np.full(len(part.turn), index)))
    return concat(parts) if parts else build_segments(extractor, [])


def _rows_by_key(segments: Segments, keys: np.ndarray) -> dict[str, Segments]:
    rows: dict[str, list[int]] = {}
    for row, key in enumerate(keys):
        rows.setdefault(str(key), []).append(row)
    by_key = {}
    for key, idx in rows.items():
        mask = np.zeros(len(keys), dtype=bool)
        mask[idx] = True
        by_key[key] = segments.rows(mask)
    return by_key
