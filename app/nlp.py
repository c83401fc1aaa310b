"""The loaded models, created once per process (app lifespan or worker start)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from pipelines.embed import SentenceEmbedder
from pipelines.extract import Extractor
from pipelines.nlp_models import load_sentence_model, load_spacy

log = logging.getLogger("verbatim")


@dataclass
class Models:
    nlp: object
    embedder: SentenceEmbedder
    extractor: Extractor


def load_models() -> Models:
    """Loads spaCy and all-MiniLM-L6-v2 from their packages; raises ModelMissingError."""
    started = time.perf_counter()
    nlp = load_spacy()
    embedder = SentenceEmbedder(load_sentence_model())
    extractor = Extractor(nlp, embedder)
    log.info("models loaded in %.1f s", time.perf_counter() - started)
    return Models(nlp=nlp, embedder=embedder, extractor=extractor)
