"""Session-wide fixtures: the real models are loaded once per test run and shared."""

from __future__ import annotations

import pytest

from pipelines.embed import SentenceEmbedder
from pipelines.nlp_models import load_sentence_model, load_spacy


@pytest.fixture(scope="session")
def nlp():
    """The real small English spaCy pipeline (no NER), loaded once."""
    return load_spacy()


@pytest.fixture(scope="session")
def embedder():
    """The real all-MiniLM-L6-v2 embedder, loaded once."""
    return SentenceEmbedder(load_sentence_model())


@pytest.fixture(scope="session")
def models(nlp, embedder):
    """The app's model bundle built from the shared real models."""
    from app.nlp import Models
    from pipelines.extract import Extractor

    return Models(nlp=nlp, embedder=embedder, extractor=Extractor(nlp, embedder))
