"""Compatibility import: the taxonomy lives in pipelines/extraction/taxonomy.py."""

from pipelines.extraction.taxonomy import (
    DEFAULT_TAXONOMY,
    Category,
    Taxonomy,
    category_names,
    extend_taxonomy,
)

__all__ = ["DEFAULT_TAXONOMY", "Category", "Taxonomy", "category_names", "extend_taxonomy"]
