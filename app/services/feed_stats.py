"""The feed answered from its summary tables: a few aggregate queries, then quotes for what shows.

Every number comes from `feed_rollup` rows (one per call and feed group, see models/rollup.py),
so a request's cost follows the calls and themes it summarises, never the mentions, and nothing
reads an embedding. The ranking is pipelines/rank.py's, fed with totals instead of rows;
tests/app/test_feed_rollups.py checks it against the row-by-row computation of app/services/feed.py.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, not_
from sqlalchemy.orm import load_only
from sqlmodel import Session, select
from sqlmodel.sql.expression import Select

from app.services.feed import FeedFilters, Row, counts_toward_ranking
from app.services.feed_totals import TOTALS, one_of, other_columns, same, total_columns
from app.services.rollups import epoch_us
from models import Call, CallTag, Cluster, ClusterMember, FeedRollup, FeedTotal, Mention
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
    # looked up by key for each row read, so that a query reading a few rows costs a few
    if filters.confident_roles:  # read from the call: it changes in place
        conds.append(exists().where(Call.id == R.call_id, Call.role_confidence >= UNSURE_BELOW))
    for tag in dict.fromkeys(filters.tags):
        conds.append(exists().where(CallTag.call_id == R.call_id, CallTag.tag == tag))
    return conds


def _windows(now_us: int) -> list:
    """What moves with the clock: confident mentions of the last 30 days and of the 30 before,
    and those dated after `now` with their weights (the rest's weights make the recency)."""
    recent_edge, previous_edge = now_us - WINDOW_DAYS * _DAY_US, now_us - 2 * WINDOW_DAYS * _DAY_US
    return [
        func.sum(case((R.at_us > recent_edge, R.confident), else_=0)),
        func.sum(case((and_(R.at_us <= recent_edge, R.at_us > previous_edge), R.confident),
                      else_=0)),
        func.sum(case((R.at_us > now_us, R.confident), else_=0)),
        func.sum(case((R.at_us > now_us, R.recency_weight), else_=0.0)),
    ]


def _group_stats(values: Sequence, *, now: datetime, p0: float) -> GroupStats:
    """From TOTALS then _windows' values."""
    (mentions, calls, accounts, confident, confident_calls, confident_accounts, lost, won,
     weights, recent, previous, future, future_weights) = values
    totals = Totals(
        mentions=int(confident), calls=int(confident_calls), accounts=int(confident_accounts),
        recent=int(recent), previous=int(previous),
        recency_sum=recency_sum(float(weights) - float(future_weights), int(future), now=now),
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
    """Every category heard under the filters, best first, each with its themes ranked."""
    now = now or utcnow()
    now_us, p0 = epoch_us(now), lost_rate(session=session, workspace_id=workspace_id)
    if _unfiltered(filters):
        theme_rows, category_rows = _kept_totals(session, workspace_id, kind, now_us)
    else:
        where = rollup_filter(workspace_id=workspace_id, kind=kind, filters=filters)
        theme_rows = session.exec(
            select(R.cluster_id, func.max(R.category), *total_columns(), *_windows(now_us))
            .where(*where, R.cluster_id.is_not(None)).group_by(R.cluster_id)).all()
        category_rows = session.exec(
            select(R.category, *other_columns(), *total_columns(), *_windows(now_us))
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
    windows summed over the rows recent enough to fall in one (an index range)."""
    t = FeedTotal
    kept = session.exec(select(t.cluster_id, t.category, t.other_mentions, t.other_calls,
                               *(getattr(t, f) for f in TOTALS))
                        .where(t.workspace_id == workspace_id, t.kind == kind)).all()
    recent = session.exec(
        select(R.cluster_id, R.category, *_windows(now_us))
        .where(R.workspace_id == workspace_id, R.kind == kind,
               R.at_us > now_us - 2 * WINDOW_DAYS * _DAY_US)
        .group_by(R.cluster_id, R.category)).all()
    themes: dict = defaultdict(lambda: [0, 0, 0, 0.0])
    categories: dict = defaultdict(lambda: [0, 0, 0, 0.0])
    for cluster_id, category, *values in recent:
        for sums in ((themes[cluster_id], categories[category]) if cluster_id is not None
                     else (categories[category],)):
            for i, value in enumerate(values):
                sums[i] += value or 0
    theme_rows = [(cid, category, *totals, *themes[cid])
                  for cid, category, _, _, *totals in kept if cid is not None]
    category_rows = [(category, other_mentions, other_calls, *totals, *categories[category])
                     for cid, category, other_mentions, other_calls, *totals in kept
                     if cid is None]
    return theme_rows, category_rows


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
    if not _unfiltered(filters):
        return _filtered_theme_quotes(session, workspace_id, kind, filters, cluster_ids, limit)
    # the theme's members in quote order, from their index; no condition on the mention's
    # workspace or kind (the theme's are its members'): SQLite, without statistics, would read
    # the workspace's mentions instead
    members = (select(Mention.id, ClusterMember.similarity, Mention.text)
               .select_from(ClusterMember).join(Mention, ClusterMember.mention_id == Mention.id)
               .order_by(ClusterMember.similarity.desc(), Mention.confidence.desc(), Mention.id))
    return _first_quotes(session, lambda cid: members.where(ClusterMember.cluster_id == cid),
                         cluster_ids, limit, one_per_wording=True)


def _filtered_theme_quotes(session: Session, workspace_id: int, kind: str,
                           filters: FeedFilters, cluster_ids: list[int],
                           limit: int) -> dict[int, list[Row]]:
    """Under filters a theme's index would be walked past every member that fails them, so the
    members that pass are read at once instead (the mentions of the calls whose summary rows
    pass; a call's facts are the same in all its rows) and ranked here."""
    if not cluster_ids or limit <= 0:
        return {cid: [] for cid in cluster_ids}
    calls = select(R.call_id).where(
        *rollup_filter(workspace_id=workspace_id, kind=kind, filters=filters),
        R.cluster_id.in_(cluster_ids))  # type: ignore[union-attr]
    rows = session.exec(
        select(ClusterMember.cluster_id, Mention.id, ClusterMember.similarity, Mention.text,
               *_sort_key(_confident_last(), -ClusterMember.similarity, -Mention.confidence,
                          Mention.id))
        .select_from(Mention).join(ClusterMember, ClusterMember.mention_id == Mention.id)
        .where(Mention.call_id.in_(calls),
               ClusterMember.cluster_id.in_(cluster_ids))).all()  # type: ignore[union-attr]
    return _ranked_here(session, rows, cluster_ids, limit, one_per_wording=True)


def _confident_last() -> ColumnElement:
    return case((counts_toward_ranking(), 0), else_=1)


def _sort_key(*columns) -> list:
    """Columns of a sort key, named apart from the same columns selected for themselves."""
    return [column.label(f"sort_{i}") for i, column in enumerate(columns)]


def _ranked_here(session: Session, rows: Sequence, groups: list, limit: int, *,
                 one_per_wording: bool) -> dict:
    """Each group's first quotes from rows of (group, mention id, similarity, text, *sort key)
    that hold all of its candidates."""
    ranked: dict = {g: [] for g in groups}
    for group, mention_id, sim, text, *_ in sorted(rows, key=lambda r: tuple(r[4:])):
        ranked[group].append((mention_id, float(sim or 0.0), text))
    picks = {g: _distinct_wordings(ranked[g], limit) if one_per_wording else ranked[g][:limit]
             for g in groups}
    mentions = _mention_rows(session, [m for p in picks.values() for m, _, _ in p])
    return {g: [Row(mentions[m].mention, mentions[m].cluster_id, sim, mentions[m].call)
                for m, sim, _ in picks[g]] for g in groups}


def _unfiltered(filters: FeedFilters) -> bool:
    return not any((filters.since, filters.until, filters.category, filters.deal_stage,
                    filters.outcome, filters.account, filters.tags, filters.confident_roles))


def other_quotes(*, session: Session, workspace_id: int, kind: str, filters: FeedFilters,
                 categories: list[str | None], limit: int) -> dict[str | None, list[Row]]:
    """Each category's other group, confident and recent first (feed.loose_quotes' order)."""
    # an other group's summary rows, and each one's loose mentions
    loose = (select(R.category, Mention.id, literal(0.0), Mention.text).select_from(R)
             .join(Mention, and_(Mention.call_id == R.call_id, Mention.kind == R.kind))
             .join(ClusterMember, ClusterMember.mention_id == Mention.id, isouter=True)
             .where(*rollup_filter(workspace_id=workspace_id, kind=kind, filters=filters),
                    R.cluster_id.is_(None), ClusterMember.mention_id.is_(None)))
    if not _unfiltered(filters):
        # the rows that pass, all groups at once and ranked here: walking each group's rows
        # newest first would pass over every row that fails (and PostgreSQL would hash the
        # tag and role conditions again for each group)
        if not categories or limit <= 0:
            return {c: [] for c in categories}
        rows = session.exec(loose.add_columns(
            *_sort_key(_confident_last(), -R.at_us, -Mention.confidence, Mention.id)).where(
            one_of(R.category, categories),
            func.coalesce(Mention.category, "") == func.coalesce(R.category, ""))).all()
        return _ranked_here(session, rows, categories, limit, one_per_wording=False)

    def of_category(category: str | None):
        # newest first from the other groups' index; an other group's rows are of its
        # mentions' category: named as a constant on both sides, PostgreSQL estimates the
        # join well enough to walk the index
        return (loose.with_only_columns(Mention.id, literal(0.0), Mention.text)
                .where(same(R.category, category), same(Mention.category, category))
                .order_by(R.at_us.desc(), Mention.confidence.desc(), Mention.id))

    return _first_quotes(session, of_category, categories, limit, one_per_wording=False)


def _first_quotes(session: Session, of_group: Callable[[Any], Select], groups: list,
                  limit: int, *, one_per_wording: bool) -> dict:
    """The first `limit` quotes (distinct wordings when asked) of each group: its confident
    mentions in order, then the others. Each group is read on its own, in the order an index
    gives, only a window deep (deeper while it is short of wordings), so that its cost follows
    the quotes shown, not its size. `of_group` gives a group's ordered query of mention ids,
    similarities and texts."""
    picks: dict = {g: [] for g in groups}
    for group in groups if limit > 0 else ():  # quotes=0 asks for none
        # repeated wordings sit side by side in quote order (one text, one similarity)
        window = 8 * limit + 8 if one_per_wording else limit
        while True:
            candidates, complete = _ordered_head(session, of_group(group), window)
            picks[group] = (_distinct_wordings(candidates, limit) if one_per_wording
                            else candidates[:limit])
            if len(picks[group]) >= limit or complete:
                break
            window *= 4
    mentions = _mention_rows(session, [m for p in picks.values() for m, _, _ in p])
    return {g: [Row(mentions[m].mention, mentions[m].cluster_id, sim, mentions[m].call)
                for m, sim, _ in picks[g]] for g in groups}


def _ordered_head(session: Session, query, window: int) -> tuple[list[tuple], bool]:
    """The first rows of the group's whole order (confident first) that `window`-deep reads
    give, and whether they are all of it."""
    confident = counts_toward_ranking()
    first = [(m, float(sim or 0.0), text) for m, sim, text in
             session.exec(query.where(confident).limit(window))]
    if len(first) == window:
        return first, False
    rest = [(m, float(sim or 0.0), text) for m, sim, text in
            session.exec(query.where(not_(confident)).limit(window))]
    return first + rest, len(rest) < window


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
