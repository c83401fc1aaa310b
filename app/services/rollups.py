"""Keeps the feed's summary tables (models/rollup.py) in step with mentions, themes and calls.

Every function writes inside the caller's transaction, so a summary never disagrees with what
it summarises. Writers first bump the workspace's feed version: on PostgreSQL that row lock
makes a call's refresh and a rebuild take turns, so neither deletes rows the other is writing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, text, update
from sqlmodel import Session, select

from app.feed_signals import FEED_CHANGED, announce
from app.services.feed import counts_toward_ranking
from app.services.feed_days import move_days, rebuild_days
from app.services.feed_totals import call_rows, move_totals, rebuild_totals
from models import Call, CallTag, Cluster, ClusterMember, FeedRollup, Mention, Workspace
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
    before = call_rows(session, call.id)
    _delete_call_rows(session, call.id)
    counts = session.exec(_counts().where(Mention.call_id == call.id)).all()
    _insert_rollups(session, call.workspace_id, counts, {call.id: _facts(call)})
    _insert_tags(session, call.workspace_id, [(call.id, call.tags)])
    _move_groups(session, call, before, call_rows(session, call.id))


def clear_call(*, session: Session, call: Call) -> None:
    """Drops a call's rows when its mentions go (a re-delivered call waiting to be processed)."""
    _bump(session, call.workspace_id)
    before = call_rows(session, call.id)
    _delete_call_rows(session, call.id)
    _move_groups(session, call, before, [])


def _move_groups(session: Session, call: Call, before: list[tuple], after: list[tuple]) -> None:
    """The totals and day buckets of the groups a call is or was in, moved by its change."""
    move_totals(session=session, workspace_id=call.workspace_id, call_id=call.id,
                before=before, after=after)
    move_days(session=session, workspace_id=call.workspace_id, before=before, after=after)


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
    rebuild_totals(session=session, workspace_id=workspace_id, kind=kind)
    rebuild_days(session=session, workspace_id=workspace_id, kind=kind)
    _refresh_statistics(session, "feed_rollup", "feed_total", "feed_day")


def _refresh_statistics(session: Session, *tables: str) -> None:
    """After a bulk rewrite PostgreSQL must know the tables' new sizes at once: planned with
    stale statistics, the feed's joins become nested loops over every row pair."""
    if session.get_bind().dialect.name == "postgresql":
        for table in tables:
            session.execute(text(f"ANALYZE {table}"))


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
