"""Compatibility import: the extractor lives in pipelines/extraction/ (see its __init__)."""

from pipelines.extraction import Extractor, ScoredSegment, add_components

__all__ = ["Extractor", "ScoredSegment", "add_components"]
