"""Search by meaning: the query's embedding against the stored mention embeddings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlmodel import Session, select

from app.jobs.placement import vector
from models import Call, Cluster, ClusterMember, Mention
from pipelines.embed import Embedder

MAX_QUERY_CHARS = 500
# cosine below which a quote is not about the query at all (all-MiniLM-L6-v2 scale)
MIN_SIMILARITY = 0.2


@dataclass(frozen=True)
class SearchHit:
    mention: Mention
    call: Call
    similarity: float
    cluster_id: int | None
    cluster_label: str | None


def search_mentions(*, session: Session, workspace_id: int, embedder: Embedder, query: str,
                    kind: str | None = None, category: str | None = None,
                    outcome: str | None = None, limit: int = 20,
                    min_similarity: float = MIN_SIMILARITY) -> list[SearchHit]:
    """The workspace's quotes closest in meaning to `query`, best first."""
    text = " ".join(query.split())[:MAX_QUERY_CHARS]
    if not text:
        return []
    candidates = _candidates(session=session, workspace_id=workspace_id, kind=kind,
                             category=category, outcome=outcome)
    if not candidates:
        return []
    q = np.asarray(embedder.encode([text])[0], dtype=np.float32)
    X = np.vstack([vector(m.embedding) for m, _ in candidates])
    sims = X @ q
    best = [int(i) for i in np.argsort(-sims, kind="stable")[:limit]
            if sims[i] >= min_similarity]
    clusters = clusters_of(session=session, mention_ids=[candidates[i][0].id for i in best])
    return [SearchHit(candidates[i][0], candidates[i][1], round(float(sims[i]), 4),
                      *clusters.get(candidates[i][0].id, (None, None))) for i in best]


def _candidates(*, session: Session, workspace_id: int, kind: str | None,
                category: str | None, outcome: str | None) -> list[tuple[Mention, Call]]:
    query = (select(Mention, Call).join(Call, Call.id == Mention.call_id)
             .where(Mention.workspace_id == workspace_id, Mention.embedding.is_not(None)))
    for column, value in ((Mention.kind, kind), (Mention.category, category),
                          (Call.outcome, outcome)):
        if value:
            query = query.where(column == value)
    return [(m, c) for m, c in session.exec(query.order_by(Mention.id)) if m.embedding]


def clusters_of(*, session: Session, mention_ids: list[int]) -> dict[int, tuple[int, str]]:
    """mention id -> (cluster id, label) for the mentions that sit in an active cluster."""
    if not mention_ids:
        return {}
    rows = session.exec(
        select(ClusterMember.mention_id, Cluster.id, Cluster.label)
        .join(Cluster, Cluster.id == ClusterMember.cluster_id)
        .where(ClusterMember.mention_id.in_(mention_ids), Cluster.active.is_(True)))
    return {mid: (cid, label) for mid, cid, label in rows}
