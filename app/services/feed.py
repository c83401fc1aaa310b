"""The ranked feed: filter mentions, score their clusters, attach the best exact quotes."""

from __future__ import annotations

import base64
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, select

from app.errors import VerbatimError
from models import Call, Cluster, ClusterMember, Mention
from models.base import aware, utcnow
from pipelines.rank import MentionStat, Score, order, score_clusters
from pipelines.roles import UNSURE_BELOW

FEED_KINDS = {"objections": "objection", "questions": "question", "pains": "pain"}


@dataclass(frozen=True)
class FeedFilters:
    since: datetime | None = None
    until: datetime | None = None
    category: str | None = None
    deal_stage: str | None = None
    outcome: str | None = None
    account: str | None = None
    tags: tuple[str, ...] = ()
    confident_roles: bool = False  # leave out calls whose speaker roles are unsure


@dataclass
class Row:
    mention: Mention
    cluster_id: int
    similarity: float
    call: Call


@dataclass
class FeedItem:
    cluster: Cluster
    score: Score
    rows: list[Row] = field(default_factory=list)


def when(call: Call) -> datetime:
    return aware(call.started_at or call.created_at)  # type: ignore[return-value]


def filtered_rows(*, session: Session, workspace_id: int, kind: str,
                  filters: FeedFilters, cluster_id: int | None = None) -> list[Row]:
    """Clustered mentions of one kind whose call passes the filters."""
    query = (
        select(Mention, ClusterMember.cluster_id, ClusterMember.similarity, Call)
        .join(ClusterMember, ClusterMember.mention_id == Mention.id)
        .join(Cluster, Cluster.id == ClusterMember.cluster_id)
        .join(Call, Call.id == Mention.call_id)
        .where(Mention.workspace_id == workspace_id, Mention.kind == kind,
               Cluster.active.is_(True))
    )
    if cluster_id is not None:
        query = query.where(ClusterMember.cluster_id == cluster_id)
    if filters.confident_roles:
        query = query.where(Call.role_confidence >= UNSURE_BELOW)
    for column, value in ((Call.deal_stage, filters.deal_stage), (Call.outcome, filters.outcome),
                          (Call.account, filters.account), (Cluster.category, filters.category)):
        if value:
            query = query.where(column == value)
    rows = [Row(m, cid, sim, c) for m, cid, sim, c in session.exec(query)]
    return [r for r in rows if _passes(r.call, filters)]


def _passes(call: Call, filters: FeedFilters) -> bool:
    at = when(call)
    if filters.since and at < filters.since:
        return False
    if filters.until and at > filters.until:
        return False
    return all(tag in (call.tags or []) for tag in filters.tags)


def build_feed(*, session: Session, workspace_id: int, kind: str, filters: FeedFilters,
               sort: str = "score", now: datetime | None = None) -> list[FeedItem]:
    rows = filtered_rows(session=session, workspace_id=workspace_id, kind=kind, filters=filters)
    now = now or utcnow()
    stats = [MentionStat(r.cluster_id, r.call.id, r.call.account, when(r.call), r.call.outcome)
             for r in rows]
    # the lost-deal baseline is the workspace's, so an outcome filter cannot hide the lift
    scores = score_clusters(stats, now=now, p0=lost_rate(session=session,
                                                          workspace_id=workspace_id))
    by_cluster: dict[int, list[Row]] = defaultdict(list)
    for r in rows:
        by_cluster[r.cluster_id].append(r)
    clusters = {c.id: c for c in session.exec(select(Cluster).where(Cluster.id.in_(list(scores))))}
    return [FeedItem(clusters[cid], scores[cid], by_cluster[cid]) for cid in order(scores, sort)]


def lost_rate(*, session: Session, workspace_id: int) -> float:
    """Share of the workspace's decided calls (won or lost) that were lost."""
    outcomes = session.exec(select(Call.outcome).where(
        Call.workspace_id == workspace_id, Call.outcome.in_(["won", "lost"]))).all()
    return sum(o == "lost" for o in outcomes) / len(outcomes) if outcomes else 0.0


def best_quotes(rows: list[Row], limit: int) -> list[Row]:
    """Most representative first (similarity to the cluster, then confidence), one per wording."""
    seen: set[str] = set()
    out: list[Row] = []
    for r in sorted(rows, key=lambda r: (-r.similarity, -r.mention.confidence, r.mention.id)):
        key = " ".join(r.mention.text.lower().split())
        if key in seen:
            continue
        seen.add(key)
        out.append(r)
        if len(out) >= limit:
            break
    return out


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        offset = int(text.removeprefix("o:")) if text.startswith("o:") else -1
    except (ValueError, UnicodeDecodeError):
        offset = -1
    if offset < 0:
        raise VerbatimError("invalid pagination cursor", detail={"field": "cursor"},
                            code="invalid_cursor")
    return offset
