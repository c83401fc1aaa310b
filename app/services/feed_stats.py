"""The feed answered from its summary tables: a few aggregate queries (quotes: feed_quotes.py).

Every number comes from the summary tables (models/rollup.py): without filters a group's kept
totals and day buckets, under filters the `feed_rollup` rows (one per call and feed group) that
pass, so a request's cost follows the themes and days (filtered: calls) it summarises, never the
mentions, and nothing reads an embedding. The ranking is pipelines/rank.py's, fed with totals instead of rows;
tests/app/test_feed_rollups.py checks it against the row-by-row computation of app/services/feed.py.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, case, exists, func, or_
from sqlalchemy.orm import load_only
from sqlmodel import Session, select

from app.services.feed import FeedFilters
from app.services.feed_days import DAY_US, weekly_sums, window_sums, windows
from app.services.feed_totals import LOST_PRECISION, TOTALS, one_of, other_columns, total_columns
from app.services.rollups import epoch_us
from models import Call, CallTag, Cluster, FeedRollup, FeedTotal
from models.base import utcnow
from pipelines.rank import Score, Totals, order, recency_sum, score_totals
from pipelines.roles import UNSURE_BELOW

R = FeedRollup


@dataclass(frozen=True)
class GroupStats:
    """A feed group under the filters: every mention shown, and the score of the confident."""

    mentions: int
    calls: int
    accounts: int
    score: Score


@dataclass
class ThemeStats:
    cluster: Cluster
    stats: GroupStats


@dataclass
class CategoryStats:
    """One category: its themes best first, and its other group's size."""

    category: str | None
    stats: GroupStats
    themes: list[ThemeStats] = field(default_factory=list)
    other_mentions: int = 0
    other_calls: int = 0


def rollup_filter(*, workspace_id: int, kind: str, filters: FeedFilters) -> list[ColumnElement]:
    """The filters as conditions on summary rows (whose call facts are copies of the call's)."""
    conds: list[ColumnElement] = [R.workspace_id == workspace_id, R.kind == kind]
    if filters.since:
        conds.append(R.at_us >= epoch_us(filters.since))
    if filters.until:
        conds.append(R.at_us <= epoch_us(filters.until))
    for column, value in ((R.deal_stage, filters.deal_stage), (R.outcome, filters.outcome),
                          (R.account, filters.account), (R.category, filters.category)):
        if value:
            conds.append(column == value)
    # looked up by key for each row read, so that a query reading a few rows costs a few
    if filters.confident_roles:  # read from the call: it changes in place
        conds.append(exists().where(Call.id == R.call_id, Call.role_confidence >= UNSURE_BELOW))
    for tag in dict.fromkeys(filters.tags):
        conds.append(exists().where(CallTag.call_id == R.call_id, CallTag.tag == tag))
    return conds


def _group_stats(values: Sequence, *, now: datetime, p0: float) -> GroupStats:
    """From TOTALS (weights: of the rows dated up to `now`) then feed_days.windows' values."""
    (mentions, calls, accounts, confident, confident_calls, confident_accounts, lost, won,
     weights, recent, previous, future) = values
    totals = Totals(
        mentions=int(confident), calls=int(confident_calls), accounts=int(confident_accounts),
        recent=int(recent), previous=int(previous),
        recency_sum=recency_sum(float(weights), int(future), now=now),
        dated=int(confident), lost_calls=int(lost), won_calls=int(won))
    return GroupStats(int(mentions), int(calls), int(accounts), score_totals(totals, p0=p0))


def lost_rate(*, session: Session, workspace_id: int) -> float:
    """Share of the workspace's decided calls (won or lost) that were lost."""
    counts = dict(session.exec(select(Call.outcome, func.count()).where(
        Call.workspace_id == workspace_id, Call.outcome.in_(["won", "lost"]))
        .group_by(Call.outcome)).all())
    decided = counts.get("won", 0) + counts.get("lost", 0)
    return counts.get("lost", 0) / decided if decided else 0.0


def feed_groups(*, session: Session, workspace_id: int, kind: str, filters: FeedFilters,
                sort: str = "score", now: datetime | None = None) -> list[CategoryStats]:
    """Every category heard under the filters, best first, each with its themes ranked. Its
    statements (kept totals, then windows) add up only when read in one snapshot: its callers
    read it inside app/db.py's read_snapshot."""
    now = now or utcnow()
    now_us, p0 = epoch_us(now), lost_rate(session=session, workspace_id=workspace_id)
    if unfiltered(filters):
        theme_rows, category_rows = _kept_totals(session, workspace_id, kind, now_us)
    else:
        where = rollup_filter(workspace_id=workspace_id, kind=kind, filters=filters)
        theme_rows = session.exec(
            select(R.cluster_id, func.max(R.category), *total_columns(now_us),
                   *windows(R.at_us, R.confident, now_us))
            .where(*where, R.cluster_id.is_not(None)).group_by(R.cluster_id)).all()
        category_rows = session.exec(
            select(R.category, *other_columns(), *total_columns(now_us),
                   *windows(R.at_us, R.confident, now_us))
            .where(*where).group_by(R.category)).all()
    themes = {row[0]: _group_stats(row[2:], now=now, p0=p0) for row in theme_rows}
    theme_category = {row[0]: row[1] for row in theme_rows}
    clusters = _clusters(session, list(themes))
    groups = {row[0]: CategoryStats(row[0], _group_stats(row[3:], now=now, p0=p0),
                                    other_mentions=int(row[1]), other_calls=int(row[2]))
              for row in category_rows}
    for cid in order({cid: s.score for cid, s in themes.items()}, sort,
                     {cid: s.mentions for cid, s in themes.items()}):
        groups[theme_category[cid]].themes.append(ThemeStats(clusters[cid], themes[cid]))
    return sorted(groups.values(), key=lambda g: (-g.stats.score.score, -g.stats.mentions,
                                                  g.category or "~"))


def _kept_totals(session: Session, workspace_id: int, kind: str,
                 now_us: int) -> tuple[list[tuple], list[tuple]]:
    """feed_groups' rows without filters: each group's totals as kept (FeedTotal), and its
    windows summed over its day buckets (feed_days.py). A group's
    weights are its kept ones less those of its rows dated after `now`; where those outweigh the
    rest past a float's precision (a date typed years ahead), its weights are summed from rows."""
    t = FeedTotal
    kept = session.exec(select(t.cluster_id, t.category, t.other_mentions, t.other_calls,
                               *(getattr(t, f) for f in TOTALS))
                        .where(t.workspace_id == workspace_id, t.kind == kind)).all()
    recent = window_sums(session=session, workspace_id=workspace_id, kind=kind, now_us=now_us)
    themes, categories = _by_group(recent, lambda: [0, 0, 0, 0.0])
    past: dict[tuple, float | None] = {}
    for cid, category, *values in kept:
        weights, ahead = values[-1], (themes if cid is not None else categories)[
            cid if cid is not None else category][3]
        past[cid, category] = weights - ahead
        if ahead and past[cid, category] < weights * LOST_PRECISION:
            past[cid, category] = None  # summed from rows below
    lost = [key for key, value in past.items() if value is None]
    if lost:
        sums = session.exec(
            select(R.cluster_id, R.category,
                   func.sum(case((R.at_us <= now_us, R.recency_weight), else_=0.0)))
            .where(R.workspace_id == workspace_id, R.kind == kind, or_(
                R.cluster_id.in_([cid for cid, _ in lost if cid is not None]),
                one_of(R.category, {category for cid, category in lost if cid is None})))
            .group_by(R.cluster_id, R.category)).all()
        theme_sums, category_sums = _by_group(sums, lambda: [0.0])
        for cid, category in lost:
            past[cid, category] = (theme_sums[cid] if cid is not None
                                   else category_sums[category])[0]
    theme_rows = [(cid, category, *totals[:-1], past[cid, category], *themes[cid][:3])
                  for cid, category, _, _, *totals in kept if cid is not None]
    category_rows = [(category, other_mentions, other_calls, *totals[:-1], past[cid, category],
                      *categories[category][:3])
                     for cid, category, other_mentions, other_calls, *totals in kept
                     if cid is None]
    return theme_rows, category_rows


def _by_group(rows: Sequence[tuple], zero) -> tuple[dict, dict]:
    """Sums of rows (cluster_id, category, *values) per theme and per category."""
    themes: dict = defaultdict(zero)
    categories: dict = defaultdict(zero)
    for cluster_id, category, *values in rows:
        for sums in ((themes[cluster_id], categories[category]) if cluster_id is not None
                     else (categories[category],)):
            for i, value in enumerate(values):
                sums[i] += value or 0
    return themes, categories


def unfiltered(filters: FeedFilters) -> bool:
    return not any((filters.since, filters.until, filters.category, filters.deal_stage,
                    filters.outcome, filters.account, filters.tags, filters.confident_roles))


def ranked_themes(groups: list[CategoryStats], sort: str) -> list[ThemeStats]:
    """The themes of every category, best first."""
    items = {t.cluster.id: t for g in groups for t in g.themes}
    return [items[cid] for cid in order({cid: t.stats.score for cid, t in items.items()}, sort,
                                        {cid: t.stats.mentions for cid, t in items.items()})]


def _clusters(session: Session, ids: list[int]) -> dict[int, Cluster]:
    if not ids:
        return {}
    query = (select(Cluster).where(Cluster.id.in_(ids))  # type: ignore[union-attr]
             .options(load_only(Cluster.id, Cluster.label, Cluster.category, Cluster.keywords,
                                Cluster.kind, Cluster.workspace_id)))
    return {c.id: c for c in session.exec(query)}


def weekly_mentions(*, session: Session, workspace_id: int, kind: str, filters: FeedFilters,
                    cluster_ids: list[int], now: datetime, weeks: int) -> dict[int, list[int]]:
    """Each theme's mentions per week, oldest first; the last week ends at `now`."""
    now_us = epoch_us(now)
    out = {cid: [0] * weeks for cid in cluster_ids}
    if not cluster_ids:
        return out
    if unfiltered(filters):
        rows = weekly_sums(session=session, workspace_id=workspace_id, kind=kind,
                           cluster_ids=cluster_ids, now_us=now_us, weeks=weeks)
    else:
        # summed per theme and week in the database: only weeks x themes come back
        week = ((now_us - R.at_us) // (7 * DAY_US)).label("week")
        rows = session.exec(
            select(R.cluster_id, week, func.sum(R.mentions))
            .where(*rollup_filter(workspace_id=workspace_id, kind=kind, filters=filters),
                   R.cluster_id.in_(cluster_ids), R.at_us <= now_us,
                   R.at_us > now_us - weeks * 7 * DAY_US)
            .group_by(R.cluster_id, week)).all()
    for cid, bucket, mentions in rows:
        if int(bucket) < weeks:
            out[cid][weeks - 1 - int(bucket)] += int(mentions)
    return out
