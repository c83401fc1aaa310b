"""The labelled turns as segment arrays per split, with the real models (cached on disk)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipelines.embed import SentenceEmbedder
from pipelines.extraction.training.dataset import Segments, load_or_build, training_extractor
from pipelines.extraction.training.labels import DATA_DIR, SPLITS, Turn, load_turns
from pipelines.nlp_models import load_sentence_model, load_spacy

CACHE_DIR = DATA_DIR.parent / ".cache"


def all_segments(
    turns: list[Turn] | None = None, cache_dir: Path = CACHE_DIR
) -> tuple[list[Turn], Segments]:
    """Every labelled turn and the segment arrays of all of them."""
    turns = turns if turns is not None else load_turns()
    extractor = training_extractor(load_spacy(), SentenceEmbedder(load_sentence_model()))
    return turns, load_or_build(extractor, turns, cache_dir)


def by_split(turns: list[Turn], segments: Segments) -> dict[str, Segments]:
    """The segment rows of each split's turns."""
    split = np.array([t.split for t in turns])
    return {name: segments.rows(split[segments.turn] == name) for name in SPLITS}


def split_segments() -> dict[str, Segments]:
    """train / dev / test segment arrays of every labelled turn."""
    return by_split(*all_segments())
