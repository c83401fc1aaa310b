"""Search by meaning: the query's embedding against the mention embeddings' nearest-neighbour
index; candidates are filtered and ranked by their exact cosine, read from the database."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlmodel import Session, select

from app.services.vectors import MentionIndexes
from models import Call, Cluster, ClusterMember, Mention
from pipelines.embed import Embedder
from pipelines.vectors import unpack

MAX_QUERY_CHARS = 500
# cosine below which a quote is not about the query at all (all-MiniLM-L6-v2 scale)
MIN_SIMILARITY = 0.2
# candidates asked of the index per hit wanted, at least MIN_CANDIDATES: the filters apply after
# the index, so a filter that keeps one quote in five still fills the page in one round
CANDIDATES_PER_HIT = 5
MIN_CANDIDATES = 100
# ids per IN (...) when reading candidates (SQLite allows 32,766 parameters)
FACTS_BATCH = 1_000


@dataclass(frozen=True)
class SearchHit:
    mention: Mention
    call: Call
    similarity: float
    cluster_id: int | None
    cluster_label: str | None


def search_mentions(*, session: Session, workspace_id: int, embedder: Embedder,
                    vectors: MentionIndexes, query: str, kind: str | None = None,
                    category: str | None = None, outcome: str | None = None, limit: int = 20,
                    min_similarity: float = MIN_SIMILARITY) -> list[SearchHit]:
    """The workspace's quotes closest in meaning to `query`, best first."""
    text = " ".join(query.split())[:MAX_QUERY_CHARS]
    if not text:
        return []
    q = np.asarray(embedder.encode([text])[0], dtype=np.float32)
    wanted = {"kind": kind, "category": category, "outcome": outcome}
    best = _nearest(session=session, workspace_id=workspace_id, vectors=vectors, q=q,
                    wanted=wanted, limit=limit, min_similarity=min_similarity)
    rows = {m.id: (m, c) for m, c in session.exec(
        select(Mention, Call).join(Call, Call.id == Mention.call_id)
        .where(Mention.id.in_([mid for mid, _ in best])))}
    clusters = clusters_of(session=session, mention_ids=list(rows))
    return [SearchHit(*rows[mid], round(sim, 4), *clusters.get(mid, (None, None)))
            for mid, sim in best if mid in rows]


def _nearest(*, session: Session, workspace_id: int, vectors: MentionIndexes, q: np.ndarray,
             wanted: dict[str, str | None], limit: int,
             min_similarity: float) -> list[tuple[int, float]]:
    """(mention id, exact cosine) of the best matches passing the filters, best first.

    The index proposes candidates; filters and the exact cosine (from the stored vector) are
    applied to them; when too few pass, a wider round asks for four times as many.
    """
    k = max(MIN_CANDIDATES, limit * CANDIDATES_PER_HIT)
    while True:
        ids, approx = vectors.nearest(session=session, workspace_id=workspace_id, vector=q, k=k)
        facts = _facts(session=session, workspace_id=workspace_id, ids=ids)
        gone = [int(i) for i in ids if int(i) not in facts]
        vectors.forget(session=session, workspace_id=workspace_id, ids=gone)
        hits = []
        for mid, (values, vector) in facts.items():
            sim = float(vector @ q)
            if sim >= min_similarity and all(not want or values[name] == want
                                             for name, want in wanted.items()):
                hits.append((mid, sim))
        hits.sort(key=lambda h: (-h[1], h[0]))
        exhausted = len(ids) < k or (len(approx) and approx[-1] < min_similarity)
        if len(hits) >= limit or exhausted:
            return hits[:limit]
        k *= 4


def _facts(*, session: Session, workspace_id: int,
           ids: np.ndarray) -> dict[int, tuple[dict[str, str | None], np.ndarray]]:
    """Per candidate still in the workspace: its filterable values and stored vector."""
    out: dict[int, tuple[dict[str, str | None], np.ndarray]] = {}
    id_list = [int(i) for i in ids]
    for start in range(0, len(id_list), FACTS_BATCH):
        rows = session.exec(
            select(Mention.id, Mention.kind, Mention.category, Call.outcome, Mention.embedding)
            .join(Call, Call.id == Mention.call_id)
            .where(Mention.workspace_id == workspace_id,
                   Mention.id.in_(id_list[start:start + FACTS_BATCH])))
        for mid, kind, category, outcome, blob in rows:
            if blob:
                out[mid] = ({"kind": kind, "category": category, "outcome": outcome},
                            unpack(blob))
    return out


def clusters_of(*, session: Session, mention_ids: list[int]) -> dict[int, tuple[int, str]]:
    """mention id -> (cluster id, label) for the mentions that sit in an active cluster."""
    if not mention_ids:
        return {}
    rows = session.exec(
        select(ClusterMember.mention_id, Cluster.id, Cluster.label)
        .join(Cluster, Cluster.id == ClusterMember.cluster_id)
        .where(ClusterMember.mention_id.in_(mention_ids), Cluster.active.is_(True)))
    return {mid: (cid, label) for mid, cid, label in rows}
