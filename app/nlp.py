"""The loaded models, created once per process (app lifespan or worker start)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from app.services.vectors import MentionIndexes
from pipelines.embed import Embedder
from pipelines.extract import Extractor
from pipelines.nlp_models import load_embedder, load_spacy
from pipelines.taxonomy import DEFAULT_TAXONOMY, Taxonomy

log = logging.getLogger("verbatim")

# extractors for workspaces with their own examples, kept in memory (least recently built out)
MAX_CUSTOM_EXTRACTORS = 16


@dataclass
class Models:
    nlp: object
    embedder: Embedder
    extractor: Extractor
    # the nearest-neighbour indexes of mention embeddings live as long as the models do
    vectors: MentionIndexes = field(default_factory=MentionIndexes)
    _custom: dict[Taxonomy, Extractor] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def extractor_for(self, taxonomy: Taxonomy) -> Extractor:
        """The default extractor, or one built (once) for a workspace's extended taxonomy."""
        if taxonomy == DEFAULT_TAXONOMY:
            return self.extractor
        with self._lock:
            if taxonomy not in self._custom:
                if len(self._custom) >= MAX_CUSTOM_EXTRACTORS:
                    self._custom.pop(next(iter(self._custom)))
                self._custom[taxonomy] = Extractor(self.nlp, self.embedder, taxonomy)
            return self._custom[taxonomy]


def load_models() -> Models:
    """Loads spaCy and all-MiniLM-L6-v2 from their packages; raises ModelMissingError."""
    started = time.perf_counter()
    nlp = load_spacy()
    embedder = load_embedder()
    extractor = Extractor(nlp, embedder)
    log.info("models loaded in %.1f s", time.perf_counter() - started)
    return Models(nlp=nlp, embedder=embedder, extractor=extractor)
