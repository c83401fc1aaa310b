"""The feed: categories, each with its ranked themes and an "other" group holding the rest.

Every mention of a kind appears once: in a theme (a cluster built by a rebuild, or joined since)
or in its category's other group. Only confident mentions count toward a score.

Why the feed shows every extracted mention rather than the confident ones alone: on the held-out
dev split of benchmarks/feed_eval.py a cut at the feed threshold (0.79) lifts precision from 0.63
to 0.83 but reach falls from 0.64 to 0.18 (a cut at 0.5: 0.71 and 0.47), and themes built from
likely mentions alone lose most of the labelled demo themes (NMI 0.695 -> 0.378). So confidence
decides what ranks and which quotes lead; the rest stay browsable in the other groups.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy import and_, case
from sqlalchemy.orm import defer
from sqlmodel import Session, select

from app.errors import VerbatimError
from models import Call, Cluster, ClusterMember, Mention
from models.base import aware, utcnow
from pipelines.extraction.step5_model import feed_threshold
from pipelines.rank import MentionStat, Score, order, score_cluster
from pipelines.roles import UNSURE_BELOW

T = TypeVar("T")

FEED_KINDS = {"objections": "objection", "questions": "question", "pains": "pain"}
# The one place that decides which mentions count toward a ranking. Below it a mention is shown,
# never counted. An objection counts from the extractor's feed threshold: its confidence is
# calibrated and the threshold was chosen on dev data for precision >= 0.85 (stored with the
# model). Questions and pains are scored by hand-set rules, on their own scale.
OTHER_KINDS_MIN_CONFIDENCE = 0.5


def quote_lead(similarity: float, confidence: float, kind: str) -> float:
    """A theme member's place in quote order: how typical of the theme and, for an objection,
    how sure the extractor is of it.

    Only objection confidences are calibrated (a model's probability); a question's is a
    hand-set step (0.9 with a "?", 0.6 without, pipelines/extraction/step7_extractor.py) that
    would reorder its theme by punctuation, and a pain's a rule scorer's that no evaluation of
    quote order has checked; questions and pains lead by similarity alone.

    Within the confident and then the other members, quotes lead by this: a theme's small talk
    can sit as close to its centroid as its objections. On benchmarks/feed_eval.py's test split
    (nothing chosen there) the first quote shown is a gold objection in 0.727 of 66 themes, 0.682
    by similarity alone. Dev is no held-out figure: the confidences are calibrated and the
    thresholds, and this weight, chosen there (0.84 of 25 against 0.60; plus half the
    confidence 0.76, twice 0.84).
    """
    return similarity + confidence if kind == "objection" else similarity


def feed_min_confidence(kind: str) -> float:
    """The confidence a mention of this kind needs to count toward a ranking."""
    return feed_threshold() if kind == "objection" else OTHER_KINDS_MIN_CONFIDENCE


def counts_toward_ranking():
    """The same rule as a SQL condition on Mention, for the summary tables and quote queries."""
    return Mention.confidence >= case((Mention.kind == "objection", feed_threshold()),
                                      else_=OTHER_KINDS_MIN_CONFIDENCE)


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
    """A mention with its call; cluster_id None means its category's other group."""

    mention: Mention
    cluster_id: int | None
    similarity: float
    call: Call
    lead: float  # its place in quote order (quote_lead); 0 outside a theme, as similarity

    @property
    def confident(self) -> bool:
        return self.mention.confidence >= feed_min_confidence(self.mention.kind)


@dataclass
class FeedItem:
    cluster: Cluster
    score: Score
    rows: list[Row] = field(default_factory=list)


@dataclass
class CategoryGroup:
    """One category: its themes best first and the mentions no theme holds."""

    category: str | None
    score: Score
    themes: list[FeedItem] = field(default_factory=list)
    other: list[Row] = field(default_factory=list)

    @property
    def mentions(self) -> int:
        return sum(len(t.rows) for t in self.themes) + len(self.other)


def when(call: Call) -> datetime:
    return aware(call.started_at or call.created_at)  # type: ignore[return-value]


def filtered_rows(*, session: Session, workspace_id: int, kind: str, filters: FeedFilters,
                  cluster_id: int | None = None, themed: bool = True,
                  with_embeddings: bool = False) -> list[Row]:
    """Mentions of one kind whose call passes the filters; with themed=False the other groups too.

    The category filter keeps a theme's members when the theme is of that category, and a loose
    mention when the mention is. Calls come without their raw payload, mentions without their
    embedding unless asked.
    """
    # memberships only ever point at active clusters (a rebuild clears the rest)
    query = (
        select(Mention, ClusterMember.cluster_id, ClusterMember.similarity, Call, Cluster.category,
               ClusterMember.lead)
        .select_from(Mention)
        .join(ClusterMember, ClusterMember.mention_id == Mention.id, isouter=not themed)
        .join(Cluster, and_(Cluster.id == ClusterMember.cluster_id, Cluster.active.is_(True)),
              isouter=not themed)
        .join(Call, Call.id == Mention.call_id)
        .where(Mention.workspace_id == workspace_id, Mention.kind == kind)
        .options(defer(Call.raw_payload))
    )
    if not with_embeddings:
        query = query.options(defer(Mention.embedding))
    if cluster_id is not None:
        query = query.where(ClusterMember.cluster_id == cluster_id)
    if filters.confident_roles:
        query = query.where(Call.role_confidence >= UNSURE_BELOW)
    for column, value in ((Call.deal_stage, filters.deal_stage), (Call.outcome, filters.outcome),
                          (Call.account, filters.account)):
        if value:
            query = query.where(column == value)
    rows = []
    for m, cid, sim, call, theme_category, lead in session.exec(query.order_by(Mention.id)):
        category = theme_category if cid is not None else m.category
        if filters.category and category != filters.category:
            continue
        if _passes(call, filters):
            rows.append(Row(m, cid, sim or 0.0, call, lead or 0.0))
    return rows


def _passes(call: Call, filters: FeedFilters) -> bool:
    at = when(call)
    if filters.since and at < filters.since:
        return False
    if filters.until and at > filters.until:
        return False
    return all(tag in (call.tags or []) for tag in filters.tags)


def build_categories(*, session: Session, workspace_id: int, kind: str, filters: FeedFilters,
                     sort: str = "score", now: datetime | None = None) -> list[CategoryGroup]:
    """Every category heard, best first, each with its ranked themes and its other group."""
    rows = filtered_rows(session=session, workspace_id=workspace_id, kind=kind, filters=filters,
                         themed=False)
    now = now or utcnow()
    p0 = lost_rate(session=session, workspace_id=workspace_id)
    by_cluster: dict[int, list[Row]] = defaultdict(list)
    loose: dict[str | None, list[Row]] = defaultdict(list)
    for r in rows:
        if r.cluster_id is None:
            loose[r.mention.category].append(r)
        else:
            by_cluster[r.cluster_id].append(r)
    clusters = {c.id: c for c in session.exec(
        select(Cluster).where(Cluster.id.in_(list(by_cluster))))}  # type: ignore[union-attr]
    scores = {cid: _score(members, now, p0) for cid, members in by_cluster.items()}
    themes: dict[str | None, list[FeedItem]] = defaultdict(list)
    for cid in order(scores, sort, {cid: len(members) for cid, members in by_cluster.items()}):
        themes[clusters[cid].category].append(FeedItem(clusters[cid], scores[cid], by_cluster[cid]))
    groups = [
        CategoryGroup(category, _score([r for t in themes[category] for r in t.rows]
                                       + loose[category], now, p0),
                      themes[category], loose_quotes(loose[category]))
        for category in set(themes) | set(loose)
    ]
    return sorted(groups, key=lambda g: (-g.score.score, -g.mentions, g.category or "~"))


def build_feed(*, session: Session, workspace_id: int, kind: str, filters: FeedFilters,
               sort: str = "score", now: datetime | None = None) -> list[FeedItem]:
    """Themes of every category, best first."""
    groups = build_categories(session=session, workspace_id=workspace_id, kind=kind,
                              filters=filters, sort=sort, now=now)
    items = [item for g in groups for item in g.themes]
    scores = {item.cluster.id: item.score for item in items}
    by_id = {item.cluster.id: item for item in items}
    return [by_id[cid] for cid in order(scores, sort, {cid: len(item.rows)
                                                       for cid, item in by_id.items()})]


def _score(rows: list[Row], now: datetime, p0: float) -> Score:
    """The ranking counts confident mentions only."""
    return score_cluster([MentionStat(r.cluster_id or 0, r.call.id, r.call.account, when(r.call),
                                      r.call.outcome) for r in rows if r.confident],
                         now=now, p0=p0)


def loose_quotes(rows: list[Row]) -> list[Row]:
    """An other group's mentions: confident first, then the most recent."""
    return sorted(rows, key=lambda r: (not r.confident, -when(r.call).timestamp(),
                                       -r.mention.confidence, r.mention.id))


def lost_rate(*, session: Session, workspace_id: int) -> float:
    """Share of the workspace's decided calls (won or lost) that were lost."""
    outcomes = session.exec(select(Call.outcome).where(
        Call.workspace_id == workspace_id, Call.outcome.in_(["won", "lost"]))).all()
    return sum(o == "lost" for o in outcomes) / len(outcomes) if outcomes else 0.0


def other_rows(*, session: Session, workspace_id: int, kind: str, category: str | None,
               q: str | None = None) -> list[Row]:
    """A category's other group (every category's when None), searched by words, best first."""
    rows = [r for r in filtered_rows(session=session, workspace_id=workspace_id, kind=kind,
                                     filters=FeedFilters(), themed=False)
            if r.cluster_id is None and (category is None or r.mention.category == category)]
    words = (q or "").lower().split()
    if words:
        rows = [r for r in rows if all(w in r.mention.text.lower() for w in words)]
    return loose_quotes(rows)


def quote_order(row: Row) -> tuple:
    """A theme's quotes in the feed's order: confident ones first, each by its lead."""
    return (not row.confident, -row.lead, -row.mention.confidence, row.mention.id)


def best_quotes(rows: list[Row], limit: int) -> list[Row]:
    """Quotes in the feed's order (quote_order); one per wording."""
    return distinct_wordings(sorted(rows, key=quote_order), lambda r: r.mention.text, limit)


def distinct_wordings(ranked: Iterable[T], text: Callable[[T], str], limit: int) -> list[T]:
    """The first `limit` items whose texts differ once case and spacing are ignored."""
    seen: set[str] = set()
    out: list[T] = []
    if limit <= 0:  # quotes=0 asks for none
        return out
    for item in ranked:
        key = " ".join(text(item).lower().split())
        if key in seen:
            continue
        seen.add(key)
        out.append(item)
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
