"""A workspace's taxonomy: the default categories plus the example sentences it added."""

from __future__ import annotations

from collections import defaultdict

from sqlmodel import Session, select

from app.errors import VerbatimError
from models import CategoryExample
from pipelines.taxonomy import DEFAULT_TAXONOMY, Taxonomy, extend_taxonomy

MAX_EXAMPLES = 200


def workspace_taxonomy(*, session: Session, workspace_id: int) -> Taxonomy:
    rows = session.exec(select(CategoryExample).where(
        CategoryExample.workspace_id == workspace_id).order_by(CategoryExample.id))
    grouped: dict[str, list[CategoryExample]] = defaultdict(list)
    for row in rows:
        grouped[row.category].append(row)
    taxonomy = DEFAULT_TAXONOMY
    for category, examples in grouped.items():
        taxonomy = extend_taxonomy(taxonomy, category, [e.text for e in examples],
                                   examples[0].description)
    return taxonomy


def add_examples(*, session: Session, workspace_id: int, category: str, examples: list[str],
                 description: str = "") -> Taxonomy:
    """Adds example sentences (a new category needs at least one); returns the new taxonomy."""
    name = category.strip().lower()
    texts = [e.strip() for e in examples if e and e.strip()]
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise VerbatimError("category must be a short word (letters, digits, - or _)",
                            code="invalid_field", detail={"field": "category"})
    if not texts:
        raise VerbatimError("give at least one example sentence", code="invalid_field",
                            detail={"field": "examples"})
    existing = {(e.category, e.text) for e in session.exec(select(CategoryExample).where(
        CategoryExample.workspace_id == workspace_id))}
    if len(existing) + len(texts) > MAX_EXAMPLES:
        raise VerbatimError(f"a workspace holds at most {MAX_EXAMPLES} examples",
                            code="too_many_examples", detail={"field": "examples"})
    for text in dict.fromkeys(texts):
        if (name, text) not in existing:
            session.add(CategoryExample(workspace_id=workspace_id, category=name, text=text,
                                        description=description.strip()))
    session.commit()
    return workspace_taxonomy(session=session, workspace_id=workspace_id)
