"""Segment-level training rows from turn-level labels.

Each turn runs through steps 1-4; a candidate segment overlapping a gold quote is positive with
that quote's category, every other segment (set-up, numbers, small talk, all of a negative turn)
is negative. Vectors and features are computed once and cached on disk by text, so candidates
and refits do not pay the embedder again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
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
    evidence = np.stack([extractor.model_evidence(s.evidence) for _, s in rows])
    starts = np.array([s.segment.start_char for _, s in rows])
    ends = np.array([s.segment.end_char for _, s in rows])
    categories = np.array(
        [gold_category(turns[k], a, b) for (k, _), a, b in zip(rows, starts, ends, strict=True)]
    )
    scorers = extractor.scorers
    return Segments(
        turn=np.array([k for k, _ in rows]),
        start=starts,
        end=ends,
        label=(categories >= 0).astype(int),
        category=categories,
        turn_label=np.array([int(turns[k].objection) for k, _ in rows]),
        objection_x=objection_inputs(vectors, contexts, [s.features for _, s in rows]),
        category_x=category_inputs(vectors, evidence),
        legacy_p=np.array([scorers.objection.probability(s.features) for _, s in rows]),
        legacy_category=np.array(
            [
                int(np.argmax(scorers.category.scores(s.evidence, s.context)))
                for _, s in rows
            ]
        ),
        texts=tuple(s.segment.text for _, s in rows),
    )


def cache_key(turns: Sequence[Turn]) -> str:
    """Changes whenever a turn, its context or a rule feature changes."""
    digest = hashlib.sha256("|".join(RULE_FEATURES).encode())
    for path in sorted(DATA_DIR.glob("*.jsonl")):
        digest.update(path.read_bytes())
    digest.update(repr(DEFAULT_TAXONOMY).encode())
    for turn in turns:
        digest.update(f"{turn.text}\x00{turn.context}\x00".encode())
        digest.update(repr(turn.objections).encode())
    return digest.hexdigest()[:16]


def load_or_build(extractor: Extractor, turns: Sequence[Turn], cache_dir: Path) -> Segments:
    """build_segments, cached in cache_dir under a key of the turns' content."""
    path = cache_dir / f"segments-{cache_key(turns)}.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as raw:
            return Segments(
                *(raw[f] for f in _ARRAY_FIELDS), texts=tuple(str(t) for t in raw["texts"])
            )
    segments = build_segments(extractor, turns)
    cache_dir.mkdir(parents=True, exist_ok=True)
    arrays = {f: getattr(segments, f) for f in _ARRAY_FIELDS}
    np.savez_compressed(path, texts=np.array(segments.texts, dtype=str), **arrays)
    return segments
