"""The feed answered from its summary tables: a few aggregate queries, then quotes for what shows.

Every number comes from `feed_rollup` rows (one per call and feed group, see models/rollup.py),
so a request's cost follows the calls and themes it summarises, never the mentions, and nothing
reads an embedding. The ranking is pipelines/rank.py's, fed with totals instead of rows;
tests/app/test_feed_rollups.py checks it against the row-by-row computation of app/services/feed.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, distinct, func, literal
from sqlalchemy.orm import load_only
from sqlmodel import Session, select

from app.services.feed import FeedFilters, Row, counts_toward_ranking
from app.services.rollups import epoch_us
from models import Call, CallTag, Cluster, ClusterMember, FeedRollup, Mention
from models.base import utcnow
from pipelines.rank import WINDOW_DAYS, Score, Totals, order, recency_sum, score_totals
from pipelines.roles import UNSURE_BELOW

_DAY_US = 86_400 * 1_000_000
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
    if filters.confident_roles:  # read from the call: it changes in place
        conds.append(R.call_id.in_(select(Call.id).where(
            Call.workspace_id == workspace_id, Call.role_confidence >= UNSURE_BELOW)))
    for tag in dict.fromkeys(filters.tags):
        conds.append(R.call_id.in_(select(CallTag.call_id).where(
            CallTag.workspace_id == workspace_id, CallTag.tag == tag)))
    return conds


def _aggregates(now_us: int) -> list:
    """Columns that add up a group's rows; each call sits in one row per group and category,
    so distinct calls and accounts are counted with DISTINCT."""
    confident = R.confident > 0
    recent_edge, previous_edge = now_us - WINDOW_DAYS * _DAY_US, now_us - 2 * WINDOW_DAYS * _DAY_US
    return [
        func.sum(R.mentions),
        func.count(distinct(R.call_id)),
        func.count(distinct(case((R.account != "", R.account)))),
        func.sum(R.confident),
        func.count(distinct(case((confident, R.call_id)))),
        func.count(distinct(case((and_(confident, R.account != ""), R.account)))),
        func.sum(case((R.at_us > recent_edge, R.confident), else_=0)),
        func.sum(case((and_(R.at_us <= recent_edge, R.at_us > previous_edge), R.confident),
                      else_=0)),
        func.sum(case((R.at_us <= now_us, R.recency_weight), else_=0.0)),
        func.sum(case((R.at_us > now_us, R.confident), else_=0)),
        func.count(distinct(case((and_(confident, R.outcome == "lost"), R.call_id)))),
        func.count(distinct(case((and_(confident, R.outcome == "won"), R.call_id)))),
    ]


def _group_stats(values: Sequence, *, now: datetime, p0: float) -> GroupStats:
    (mentions, calls, accounts, confident, confident_calls, confident_accounts, recent, previous,
     weights, future, lost, won) = values
    totals = Totals(
        mentions=int(confident), calls=int(confident_calls), accounts=int(confident_accounts),
        recent=int(recent), previous=int(previous),
        recency_sum=recency_sum(float(weights), int(future), now=now), dated=int(confident),
        lost_calls=int(lost), won_calls=int(won))
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
    """Every category heard under the filters, best first, each with its themes ranked."""
    now = now or utcnow()
    now_us, p0 = epoch_us(now), lost_rate(session=session, workspace_id=workspace_id)
    where = rollup_filter(workspace_id=workspace_id, kind=kind, filters=filters)
    theme_rows = session.exec(
        select(R.cluster_id, func.max(R.category), *_aggregates(now_us))
        .where(*where, R.cluster_id.is_not(None)).group_by(R.cluster_id)).all()
    other = R.cluster_id.is_(None)
    category_rows = session.exec(
        select(R.category, func.sum(case((other, R.mentions), else_=0)),
               func.count(distinct(case((other, R.call_id)))), *_aggregates(now_us))
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


_MENTION_COLUMNS = (Mention.id, Mention.text, Mention.call_id, Mention.speaker, Mention.start_ms,
                    Mention.category, Mention.confidence, Mention.utterance_id, Mention.context,
                    Mention.kind, Mention.workspace_id)
_CALL_COLUMNS = (Call.id, Call.account, Call.title, Call.started_at, Call.created_at,
                 Call.workspace_id)


def theme_quotes(*, session: Session, workspace_id: int, kind: str, filters: FeedFilters,
                 cluster_ids: list[int], limit: int) -> dict[int, list[Row]]:
    """Each theme's best quotes under the filters, as app/services/feed.py's best_quotes picks
    them (confident first, most representative first, one per wording)."""
    if not cluster_ids or limit <= 0:
        return {cid: [] for cid in cluster_ids}
    confident_last = case((counts_toward_ranking(), 0), else_=1)
    ranking = (confident_last, ClusterMember.similarity.desc(), Mention.confidence.desc(),
               Mention.id)
    if _unfiltered(filters):
        # every member has its summary row, so with nothing to filter the summaries are not
        # joined at all: the theme's members and their mentions are all there is to read
        def members(query):
            return query.select_from(ClusterMember).join(
                Mention, ClusterMember.mention_id == Mention.id)

        where = [Mention.workspace_id == workspace_id, Mention.kind == kind]
        joined: tuple = (ClusterMember.cluster_id, members)
    else:
        def through_summaries(query):
            return query.select_from(R).join(Mention, and_(
                Mention.call_id == R.call_id,
                _same_category(Mention.category, R.mention_category))).join(
                ClusterMember, and_(ClusterMember.mention_id == Mention.id,
                                    ClusterMember.cluster_id == R.cluster_id))

        where = rollup_filter(workspace_id=workspace_id, kind=kind, filters=filters)
        joined = (ClusterMember.cluster_id, through_summaries)
    return _ranked_quotes(session, joined, ranking, cluster_ids, limit, where,
                          similarity=ClusterMember.similarity, one_per_wording=True)


def _unfiltered(filters: FeedFilters) -> bool:
    return not any((filters.since, filters.until, filters.category, filters.deal_stage,
                    filters.outcome, filters.account, filters.tags, filters.confident_roles))


def other_quotes(*, session: Session, workspace_id: int, kind: str, filters: FeedFilters,
                 categories: list[str | None], limit: int) -> dict[str | None, list[Row]]:
    """Each category's other group, confident and recent first (feed.loose_quotes' order)."""
    if not categories or limit <= 0:
        return {c: [] for c in categories}
    confident_last = case((counts_toward_ranking(), 0), else_=1)
    ranking = (confident_last, R.at_us.desc(), Mention.confidence.desc(), Mention.id)
    where = rollup_filter(workspace_id=workspace_id, kind=kind, filters=filters)
    where += [R.cluster_id.is_(None), ClusterMember.mention_id.is_(None)]

    def loose(query):
        return query.select_from(R).join(Mention, and_(
            Mention.call_id == R.call_id, Mention.kind == R.kind,
            _same_category(Mention.category, R.mention_category))).join(
            ClusterMember, ClusterMember.mention_id == Mention.id, isouter=True)

    joined = (R.category, loose)
    return _ranked_quotes(session, joined, ranking, categories, limit, where, similarity=None,
                          one_per_wording=False)


def _ranked_quotes(session: Session, joined: tuple, ranking: tuple, groups: list, limit: int,
                   where: list, similarity, one_per_wording: bool) -> dict:
    """The first `limit` quotes (distinct wordings when asked) of each group in `ranking` order,
    read a window at a time (a group short of wordings is read further). Repeats of one exact
    text are dropped in the database, other wording variants (case, spaces) here. `joined` is
    the group's column and a function giving a query its FROM and joins."""
    group_key, joins = joined
    out: dict = {g: [] for g in groups}
    window = 3 * limit + 5 if one_per_wording else limit
    pending = list(groups)
    while pending:
        rank = func.row_number().over(partition_by=group_key, order_by=ranking)
        text_rank = func.row_number().over(partition_by=(group_key, Mention.text),
                                           order_by=ranking)
        query = (select(group_key.label("group_key"), Mention.id, rank.label("rank"),
                        (text_rank if one_per_wording else literal(1)).label("text_rank"),
                        (similarity if similarity is not None else literal(0.0)).label("sim"),
                        Mention.text.label("text")))
        query = joins(query)
        ranked = query.where(*where, _one_of(group_key, pending)).subquery()
        kept = select(ranked.c.group_key, ranked.c.id, ranked.c.sim, ranked.c.text,
                      func.row_number().over(partition_by=ranked.c.group_key,
                                             order_by=ranked.c.rank).label("kept_rank")
                      ).where(ranked.c.text_rank == 1).subquery()
        rows = session.exec(select(kept.c.group_key, kept.c.id, kept.c.sim, kept.c.text)
                            .where(kept.c.kept_rank <= window)
                            .order_by(kept.c.group_key, kept.c.kept_rank)).all()
        seen: dict = {g: [] for g in pending}
        for key, mention_id, sim, text in rows:
            seen[key].append((mention_id, float(sim or 0.0), text))
        # wordings are told apart on the ids' texts: only the quotes kept are read in full
        picks = {g: _distinct_wordings(seen[g], limit) if one_per_wording else seen[g]
                 for g in pending}
        mentions = _mention_rows(session, [m for p in picks.values() for m, _, _ in p])
        short = []
        for g in pending:
            out[g] = [Row(mentions[m].mention, mentions[m].cluster_id, sim, mentions[m].call)
                      for m, sim, _ in picks[g]]
            if len(out[g]) < limit and len(seen[g]) == window:
                short.append(g)
        pending, window = short, window * 4
    return out


def _same_category(a, b) -> ColumnElement:
    """Equal categories, None equal to None, written so that PostgreSQL can hash-join on it
    (IS NOT DISTINCT FROM makes it loop over every pair); no category is named ''."""
    return func.coalesce(a, "") == func.coalesce(b, "")


def _one_of(column, values: list) -> ColumnElement:
    """column IN values, where a None among them means NULL (an uncategorised group)."""
    known = [v for v in values if v is not None]
    condition = column.in_(known)
    return condition | column.is_(None) if len(known) < len(values) else condition


def _distinct_wordings(candidates: list[tuple[int, float, str]],
                       limit: int) -> list[tuple[int, float, str]]:
    seen: set[str] = set()
    picked: list[tuple[int, float, str]] = []
    for candidate in candidates:
        key = " ".join(candidate[2].lower().split())
        if key in seen:
            continue
        seen.add(key)
        picked.append(candidate)
        if len(picked) >= limit:
            break
    return picked


def _mention_rows(session: Session, ids: list[int]) -> dict[int, Row]:
    """Mentions with their calls, without embeddings or raw payloads."""
    if not ids:
        return {}
    query = (select(Mention, ClusterMember.cluster_id, Call)
             .join(ClusterMember, ClusterMember.mention_id == Mention.id, isouter=True)
             .join(Call, Call.id == Mention.call_id)
             .where(Mention.id.in_(ids))  # type: ignore[union-attr]
             .options(load_only(*_MENTION_COLUMNS), load_only(*_CALL_COLUMNS)))
    return {m.id: Row(m, cid, 0.0, call) for m, cid, call in session.exec(query)}


def weekly_mentions(*, session: Session, workspace_id: int, kind: str, filters: FeedFilters,
                    cluster_ids: list[int], now: datetime, weeks: int) -> dict[int, list[int]]:
    """Each theme's mentions per week, oldest first; the last week ends at `now`."""
    now_us = epoch_us(now)
    out = {cid: [0] * weeks for cid in cluster_ids}
    if not cluster_ids:
        return out
    # summed per theme and week in the database: a large workspace has tens of thousands of
    # summary rows in twelve weeks, and only weeks x themes come back
    week = ((now_us - R.at_us) // (7 * _DAY_US)).label("week")
    rows = session.exec(
        select(R.cluster_id, week, func.sum(R.mentions))
        .where(*rollup_filter(workspace_id=workspace_id, kind=kind, filters=filters),
               R.cluster_id.in_(cluster_ids), R.at_us <= now_us,
               R.at_us > now_us - weeks * 7 * _DAY_US)
        .group_by(R.cluster_id, week)).all()
    for cid, bucket, mentions in rows:
        if int(bucket) < weeks:
            out[cid][weeks - 1 - int(bucket)] += int(mentions)
    return out
