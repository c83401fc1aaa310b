"""Exports: the ranked clusters and their quotes as CSV, a cluster as a Markdown content brief."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from app.db import read_snapshot
from app.services.cluster_view import cluster_detail
from app.services.feed import (
    FeedFilters,
    Row,
    best_quotes,
    build_feed,
    filtered_rows,
    quote_order,
    when,
)
from models import Cluster
from models.base import utcnow
from pipelines.rank import MentionStat, explain, score_clusters

CLUSTER_COLUMNS = ["rank", "cluster_id", "kind", "label", "category", "score", "mentions",
                   "confident_mentions", "calls", "accounts", "mentions_last_30d",
                   "mentions_prior_30d", "trend", "lost_calls", "won_calls", "lost_share",
                   "keywords", "top_quote", "why"]
QUOTE_COLUMNS = ["mention_id", "cluster_id", "cluster_label", "kind", "category", "quote",
                 "speaker", "account", "call_id", "call_title", "call_date", "timestamp",
                 "start_ms", "deal_stage", "outcome", "tags"]
BRIEF_QUOTES = 10
BRIEF_VARIANTS = 5
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula is prefixed with an apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv(columns: list[str], rows: list[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([[_cell(v) for v in row] for row in rows])
    return out.getvalue()


def mmss(ms: int | None) -> str:
    """A call offset as m:ss (h:mm:ss past the hour); empty when unknown."""
    if ms is None:
        return ""
    hours, rest = divmod(max(0, ms) // 1000, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def clusters_csv(*, session: Session, workspace_id: int, kind: str, filters: FeedFilters,
                 sort: str = "score", now: datetime | None = None) -> str:
    """The feed of one mention kind, best first, one cluster a line."""
    with read_snapshot(session):
        items = build_feed(session=session, workspace_id=workspace_id, kind=kind,
                           filters=filters, sort=sort, now=now)
        rows = []
        for rank, item in enumerate(items, start=1):
            s, c = item.score, item.cluster
            top = best_quotes(item.rows, 1)
            lost_share = raw_lost_share(s.lost_calls, s.won_calls)
            accounts = {r.call.account for r in item.rows if r.call.account}
            rows.append([rank, c.id, c.kind, c.label, c.category or "", s.score,
                         len(item.rows), s.mentions, len({r.call.id for r in item.rows}),
                         len(accounts), s.recent, s.previous, s.trend, s.lost_calls, s.won_calls,
                         "" if lost_share is None else lost_share, "; ".join(c.keywords or []),
                         top[0].mention.text if top else "", explain(s, len(item.rows))])
    return _csv(CLUSTER_COLUMNS, rows)


def quotes_csv(*, session: Session, workspace_id: int, kinds: list[str], filters: FeedFilters,
               cluster_id: int | None = None) -> str:
    """Every quote that passes the filters, theme by theme (in the feed's quote order), then
    the other groups' (cluster_id empty, labelled "Other <category>"); one theme's with cluster_id."""
    with read_snapshot(session):
        rows: list[Row] = []
        for kind in kinds:
            rows.extend(filtered_rows(session=session, workspace_id=workspace_id, kind=kind,
                                      filters=filters, cluster_id=cluster_id,
                                      themed=cluster_id is not None))
        # a theme's quotes in the feed's order (its first is the feed's first); other groups' by id
        rows.sort(key=lambda r: (r.cluster_id is None, r.cluster_id or 0,
                                 r.mention.category or "",
                                 quote_order(r) if r.cluster_id is not None else (r.mention.id,)))
        labels = _labels(session, {r.cluster_id for r in rows if r.cluster_id is not None})
        lines = []
        for r in rows:
            m, call = r.mention, r.call
            label = (labels.get(r.cluster_id, "") if r.cluster_id is not None
                     else f"Other {m.category or m.kind}")
            lines.append([m.id, "" if r.cluster_id is None else r.cluster_id, label, m.kind,
                          m.category or "", m.text, m.speaker, call.account or "", call.id,
                          call.title or "", when(call).date().isoformat(), mmss(m.start_ms),
                          "" if m.start_ms is None else m.start_ms, call.deal_stage or "",
                          call.outcome or "", "; ".join(call.tags or [])])
    return _csv(QUOTE_COLUMNS, lines)


def _labels(session: Session, cluster_ids: set[int]) -> dict[int, str]:
    if not cluster_ids:
        return {}
    found = session.exec(select(Cluster.id, Cluster.label).where(
        Cluster.id.in_(list(cluster_ids))))
    return {cid: label for cid, label in found}


def raw_lost_share(lost: int, won: int) -> float | None:
    """Lost among the decided deals, unsmoothed; None when no deal is decided yet."""
    return round(lost / (lost + won), 4) if lost + won else None


@dataclass(frozen=True)
class ClusterStats:
    mentions: int
    calls: int
    accounts: int
    lost_calls: int
    won_calls: int
    lost_share: float | None
    recent: int
    previous: int
    trend: float
    first_heard: datetime | None
    last_heard: datetime | None


def cluster_stats(rows: list[Row], *, now: datetime | None = None) -> ClusterStats:
    """Why a cluster matters, in numbers: reach, deal outcomes and the 30-day trend."""
    stats = [MentionStat(r.cluster_id, r.call.id, r.call.account, when(r.call), r.call.outcome)
             for r in rows]
    scores = score_clusters(stats, now=now or utcnow())
    dates = [when(r.call) for r in rows]
    if not scores:
        return ClusterStats(0, 0, 0, 0, 0, None, 0, 0, 0.0, None, None)
    s = next(iter(scores.values()))
    return ClusterStats(
        mentions=s.mentions, calls=s.calls, accounts=s.accounts, lost_calls=s.lost_calls,
        won_calls=s.won_calls, lost_share=raw_lost_share(s.lost_calls, s.won_calls),
        recent=s.recent, previous=s.previous, trend=s.trend,
        first_heard=min(dates), last_heard=max(dates))


def cluster_rows(*, session: Session, cluster: Cluster) -> list[Row]:
    return filtered_rows(session=session, workspace_id=cluster.workspace_id, kind=cluster.kind,
                         filters=FeedFilters(), cluster_id=cluster.id)


def slug(text: str, fallback: str = "cluster") -> str:
    words = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return words[:60].rstrip("-") or fallback


def _day(value: datetime | None) -> str:
    return f"{value:%b} {value.day}, {value.year}" if value else "unknown"


def _trend_line(s: ClusterStats) -> str:
    if s.previous == 0 and s.recent == 0:
        return "not heard in the last 60 days"
    if s.previous == 0:
        return f"{s.recent} mentions in the last 30 days, none in the 30 days before (new)"
    change = round(100 * (s.recent - s.previous) / s.previous)
    direction = "up" if change > 0 else ("down" if change < 0 else "flat")
    return (f"{s.recent} mentions in the last 30 days vs {s.previous} in the 30 days before "
            f"({direction} {abs(change)}%)")


def _source(r: Row) -> str:
    call = r.call
    parts = [r.mention.speaker, call.account or "", call.title or f"call {call.id}",
             _day(when(call)), mmss(r.mention.start_ms)]
    return ", ".join(p for p in parts if p)


def brief_markdown(*, session: Session, cluster: Cluster, now: datetime | None = None) -> str:
    """A content brief: what customers say, why it matters in numbers, the best exact quotes;
    all of one snapshot."""
    with read_snapshot(session):
        return _brief(session, cluster, now)


def _brief(session: Session, cluster: Cluster, now: datetime | None) -> str:
    rows = cluster_rows(session=session, cluster=cluster)
    s = cluster_stats(rows, now=now)
    kind = {"objection": "Objection", "question": "Question", "pain": "Pain phrase"}.get(
        cluster.kind, cluster.kind)
    head = f"{kind}" + (f" · {cluster.category}" if cluster.category else "")
    lost = ("no decided deals yet" if s.lost_share is None else
            f"{round(100 * s.lost_share)}% of the decided deals where it came up were lost "
            f"({s.lost_calls} lost, {s.won_calls} won)")
    lines = [
        f"# {cluster.label}", "",
        f"*{head} · brief exported {_day(now or utcnow())} from verbatim*", "",
        "## Why it matters", "",
        f"- **{s.mentions} mentions** in **{s.calls} calls** from **{s.accounts} accounts**",
        f"- **Lost-deal share:** {lost}",
        f"- **Trend:** {_trend_line(s)}",
        f"- **First heard** {_day(s.first_heard)}, **last heard** {_day(s.last_heard)}",
    ]
    if cluster.keywords:
        lines.append(f"- **Keywords:** {', '.join(cluster.keywords)}")
    variants = cluster_detail(session=session, cluster=cluster)["variants"][:BRIEF_VARIANTS]
    if variants:
        lines += ["", "## How customers say it", ""]
        lines += [f"- “{v['text']}” ({v['count']}×)" for v in variants]
    lines += ["", f"## The {BRIEF_QUOTES} best verbatim quotes", ""]
    for i, r in enumerate(best_quotes(rows, BRIEF_QUOTES), start=1):
        lines += [f"{i}. “{r.mention.text}”", f"   — {_source(r)}", ""]
    if not rows:
        lines += ["No quotes in this cluster yet.", ""]
    return "\n".join(lines).rstrip() + "\n"
