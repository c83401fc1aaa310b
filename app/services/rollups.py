"""Keeps the feed's summary tables (models/rollup.py) in step with mentions, themes and calls.

Every function writes inside the caller's transaction, so a summary never disagrees with what
it summarises. Writers first bump the workspace's feed version: on PostgreSQL that row lock
makes a call's refresh and a rebuild take turns, so neither deletes rows the other is writing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, distinct, func, insert, text, update
from sqlmodel import Session, select

from app.feed_signals import FEED_CHANGED, announce
from app.services.feed import counts_toward_ranking
from models import (
    Call,
    CallTag,
    Cluster,
    ClusterMember,
    FeedRollup,
    FeedTotal,
    Mention,
    Workspace,
)
from models.base import aware
from pipelines.rank import recency_weight

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def call_time(call_started_at: datetime | None, call_created_at: datetime) -> datetime:
    """When a call happened, as the feed dates it: its start, else when it was stored."""
    return aware(call_started_at or call_created_at)  # type: ignore[return-value]


def epoch_us(moment: datetime) -> int:
    """Microseconds since 1970 UTC: exact, and compared the same way on every database."""
    return (aware(moment) - _EPOCH) // timedelta(microseconds=1)  # type: ignore[operator]


def refresh_call(*, session: Session, call: Call) -> None:
    """Rewrites one call's rows: after its mentions, memberships, roles or facts changed."""
    _bump(session, call.workspace_id)
    touched = _groups_of(session, call.id)
    _delete_call_rows(session, call.id)
    counts = session.exec(_counts().where(Mention.call_id == call.id)).all()
    _insert_rollups(session, call.workspace_id, counts, {call.id: _facts(call)})
    _insert_tags(session, call.workspace_id, [(call.id, call.tags)])
    _refresh_touched(session, call.workspace_id, touched | _groups_of(session, call.id))


def clear_call(*, session: Session, call: Call) -> None:
    """Drops a call's rows when its mentions go (a re-delivered call waiting to be processed)."""
    _bump(session, call.workspace_id)
    touched = _groups_of(session, call.id)
    _delete_call_rows(session, call.id)
    _refresh_touched(session, call.workspace_id, touched)


def rebuild_kind(*, session: Session, workspace_id: int, kind: str) -> None:
    """Recomputes a workspace's rows of one kind from scratch (after a re-cluster)."""
    _bump(session, workspace_id)
    session.execute(delete(FeedRollup).where(FeedRollup.workspace_id == workspace_id,
                                             FeedRollup.kind == kind))
    counts = session.exec(_counts().where(Mention.workspace_id == workspace_id,
                                          Mention.kind == kind)).all()
    calls = session.exec(select(Call.id, Call.started_at, Call.created_at, Call.outcome,
                                Call.deal_stage, Call.account)
                         .where(Call.workspace_id == workspace_id)).all()
    facts = {row[0]: _facts_of(*row[1:]) for row in calls}
    _insert_rollups(session, workspace_id, counts, facts)
    _refresh_totals(session, workspace_id, kind)
    _refresh_statistics(session, "feed_rollup", "feed_total")


def _refresh_statistics(session: Session, *tables: str) -> None:
    """After a bulk rewrite PostgreSQL must know the tables' new sizes at once: planned with
    stale statistics, the feed's joins become nested loops over every row pair."""
    if session.get_bind().dialect.name == "postgresql":
        for table in tables:
            session.execute(text(f"ANALYZE {table}"))


def total_columns() -> list:
    """What a group's rows add up to over all time, in FeedTotal's order (TOTALS). Each call
    sits in one row per group and mention category, so calls and accounts are counted with
    DISTINCT; lost and won count calls with a confident mention."""
    r, confident = FeedRollup, FeedRollup.confident > 0
    return [
        func.sum(r.mentions),
        func.count(distinct(r.call_id)),
        func.count(distinct(case((r.account != "", r.account)))),
        func.sum(r.confident),
        func.count(distinct(case((confident, r.call_id)))),
        func.count(distinct(case((and_(confident, r.account != ""), r.account)))),
        func.count(distinct(case((and_(confident, r.outcome == "lost"), r.call_id)))),
        func.count(distinct(case((and_(confident, r.outcome == "won"), r.call_id)))),
        func.sum(r.recency_weight),
    ]


TOTALS = ("mentions", "calls", "accounts", "confident", "confident_calls", "confident_accounts",
          "lost_calls", "won_calls", "recency_weight")


def other_columns() -> list:
    """A category's other group: its mentions and distinct calls."""
    other = FeedRollup.cluster_id.is_(None)
    return [func.sum(case((other, FeedRollup.mentions), else_=0)),
            func.count(distinct(case((other, FeedRollup.call_id))))]


def _groups_of(session: Session, call_id: int) -> set[tuple[str, int | None, str | None]]:
    """The (kind, theme, category) of a call's rows: the totals a change to them touches."""
    return set(session.exec(select(FeedRollup.kind, FeedRollup.cluster_id, FeedRollup.category)
                            .where(FeedRollup.call_id == call_id)).all())


def _refresh_touched(session: Session, workspace_id: int,
                     touched: set[tuple[str, int | None, str | None]]) -> None:
    for kind in {k for k, _, _ in touched}:
        _refresh_totals(session, workspace_id, kind,
                        clusters={c for k, c, _ in touched if k == kind and c is not None},
                        categories={g for k, _, g in touched if k == kind})


def _refresh_totals(session: Session, workspace_id: int, kind: str,
                    clusters: set[int] | None = None,
                    categories: set[str | None] | None = None) -> None:
    """Recounts the totals of these themes and categories (all of the kind's when None)."""
    t, r = FeedTotal, FeedRollup
    themes, whole = t.cluster_id.is_not(None), clusters is None
    if whole or clusters:
        session.execute(delete(t).where(t.workspace_id == workspace_id, t.kind == kind, themes,
                                        *([] if whole else [t.cluster_id.in_(clusters)])))
        rows = session.exec(
            select(r.cluster_id, func.max(r.category), *total_columns())
            .where(r.workspace_id == workspace_id, r.kind == kind, r.cluster_id.is_not(None),
                   *([] if whole else [r.cluster_id.in_(clusters)]))
            .group_by(r.cluster_id)).all()
        _insert_totals(session, workspace_id, kind, [(*row, 0, 0) for row in rows])
    if whole or categories:
        picked = [] if categories is None else [one_of(t.category, categories)]
        session.execute(delete(t).where(t.workspace_id == workspace_id, t.kind == kind,
                                        t.cluster_id.is_(None), *picked))
        picked = [] if categories is None else [one_of(r.category, categories)]
        rows = session.exec(
            select(r.category, *total_columns(), *other_columns())
            .where(r.workspace_id == workspace_id, r.kind == kind, *picked)
            .group_by(r.category)).all()
        _insert_totals(session, workspace_id, kind, [(None, *row) for row in rows])


def _insert_totals(session: Session, workspace_id: int, kind: str, rows: list[tuple]) -> None:
    fields = ("cluster_id", "category", *TOTALS, "other_mentions", "other_calls")
    _insert_many(session, FeedTotal, [
        {"workspace_id": workspace_id, "kind": kind,
         **{f: (v or 0) if f in TOTALS else v for f, v in zip(fields, row, strict=True)}}
        for row in rows])


def one_of(column, values: set | list) -> ColumnElement:
    """column IN values, where a None among them means NULL (an uncategorised group)."""
    known = [v for v in values if v is not None]
    condition = column.in_(known)
    return condition | column.is_(None) if len(known) < len(values) else condition


def rebuild_tags(*, session: Session, workspace_id: int) -> None:
    """Rewrites the workspace's call tags (the rebuild keeps them honest too)."""
    _bump(session, workspace_id)
    session.execute(delete(CallTag).where(CallTag.workspace_id == workspace_id))
    _insert_tags(session, workspace_id, session.exec(
        select(Call.id, Call.tags).where(Call.workspace_id == workspace_id)).all())
    _refresh_statistics(session, "call_tag")


def touch(*, session: Session, workspace_id: int) -> None:
    """Marks the workspace's feed as changed (a role's confidence, a theme's label)."""
    _bump(session, workspace_id)


def _bump(session: Session, workspace_id: int) -> None:
    session.execute(update(Workspace).where(Workspace.id == workspace_id)
                    .values(feed_version=Workspace.feed_version + 1))
    announce(session, FEED_CHANGED, workspace_id)  # delivered with the commit, or never


def _delete_call_rows(session: Session, call_id: int) -> None:
    session.execute(delete(FeedRollup).where(FeedRollup.call_id == call_id))
    session.execute(delete(CallTag).where(CallTag.call_id == call_id))


def _counts():
    """Mentions per call and feed group, with how many of them count toward a score."""
    confident = func.sum(case((counts_toward_ranking(), 1), else_=0))
    return (
        select(Mention.call_id, Mention.kind, ClusterMember.cluster_id, Cluster.category,
               Mention.category, func.count(), confident)
        .select_from(Mention)
        .join(ClusterMember, ClusterMember.mention_id == Mention.id, isouter=True)
        .join(Cluster, and_(Cluster.id == ClusterMember.cluster_id, Cluster.active.is_(True)),
              isouter=True)
        .group_by(Mention.call_id, Mention.kind, ClusterMember.cluster_id, Cluster.category,
                  Mention.category)
    )


def _facts(call: Call) -> dict[str, Any]:
    return _facts_of(call.started_at, call.created_at, call.outcome, call.deal_stage,
                     call.account)


def _facts_of(started_at: datetime | None, created_at: datetime, outcome: str | None,
              deal_stage: str | None, account: str | None) -> dict[str, Any]:
    at = call_time(started_at, created_at)
    return {"at_us": epoch_us(at), "outcome": outcome, "deal_stage": deal_stage,
            "account": account, "weight": recency_weight(at)}


def _insert_rollups(session: Session, workspace_id: int, counts: Iterable[tuple],
                    facts: dict[int, dict[str, Any]]) -> None:
    rows = []
    for call_id, kind, cluster_id, theme_category, category, mentions, confident in counts:
        fact = dict(facts[call_id])
        weight = fact.pop("weight")
        rows.append({
            "workspace_id": workspace_id, "kind": kind, "cluster_id": cluster_id,
            "category": theme_category if cluster_id is not None else category,
            "mention_category": category, "call_id": call_id, "mentions": int(mentions),
            "confident": int(confident or 0), "recency_weight": int(confident or 0) * weight,
            **fact})
    _insert_many(session, FeedRollup, rows)


def _insert_tags(session: Session, workspace_id: int,
                 call_tags: Iterable[tuple[int, list[str] | None]]) -> None:
    rows = [{"call_id": call_id, "tag": tag, "workspace_id": workspace_id}
            for call_id, tags in call_tags for tag in sorted(set(tags or []))]
    _insert_many(session, CallTag, rows)


def _insert_many(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Bulk rows in the session's transaction; on PostgreSQL by COPY (executemany there sends
    every row on its own: a minute for a 100k-mention rebuild, against a second). The values
    come from stored rows, already free of NUL characters."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(insert(model), rows)
        return
    columns = list(rows[0])
    statement = f"COPY {model.__tablename__} ({', '.join(columns)}) FROM STDIN"
    with connection.connection.driver_connection.cursor() as cursor, \
            cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])
