"""A cluster as the API shows it: its variants and its members, page by page."""

from __future__ import annotations

import numpy as np
from sqlmodel import Session

from app.services.feed import (
    FeedFilters,
    decode_cursor,
    encode_cursor,
    filtered_rows,
    quote_order,
)
from app.services.feed_view import quote_out
from models import Cluster
from pipelines.variants import by_representativeness, group_variants
from pipelines.vectors import unpack_many

# Near-identical for all-MiniLM-L6-v2: "the three-year term is too long" and "a three-year
# term is too long for us" sit at ~0.85; different points about the same term below 0.75.
VARIANT_COSINE = 0.85


def _rows(session: Session, cluster: Cluster):
    """Members in the feed's quote order (quote_order)."""
    rows = filtered_rows(session=session, workspace_id=cluster.workspace_id, kind=cluster.kind,
                         filters=FeedFilters(), cluster_id=cluster.id, with_embeddings=True)
    return sorted(rows, key=quote_order)


def cluster_detail(*, session: Session, cluster: Cluster) -> dict:
    rows = _rows(session, cluster)
    variants = []
    if rows:
        X = unpack_many([r.mention.embedding for r in rows])
        # confident members lead their group: the wording shown is one a customer surely said
        centrality = np.array([r.lead + (1.0 if r.confident else 0.0) for r in rows])
        groups = group_variants([r.mention.text for r in rows], X, VARIANT_COSINE)
        for group in by_representativeness(groups, centrality):
            variants.append({"text": rows[group[0]].mention.text, "count": len(group),
                             "mention_ids": [rows[i].mention.id for i in group]})
    return {
        "id": cluster.id, "kind": cluster.kind, "label": cluster.label,
        "label_is_custom": cluster.label_is_custom, "category": cluster.category,
        "keywords": cluster.keywords, "mentions": len(rows),
        "calls": len({r.call.id for r in rows}), "variants": variants,
        "created_at": cluster.created_at, "updated_at": cluster.updated_at,
    }


def cluster_mentions_page(*, session: Session, cluster: Cluster, limit: int,
                          cursor: str | None) -> dict:
    rows = _rows(session, cluster)
    offset = decode_cursor(cursor)
    page = rows[offset:offset + limit]
    items = [{**quote_out(r).model_dump(), "similarity": round(r.similarity, 4),
              "confidence": round(r.mention.confidence, 4), "context": r.mention.context,
              "started_at": r.call.started_at, "call_title": r.call.title} for r in page]
    more = offset + limit < len(rows)
    return {"items": items, "total": len(rows),
            "next": encode_cursor(offset + limit) if more else None}
