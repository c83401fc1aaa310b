"""Keeps each feed group's day buckets (models/rollup.py's FeedDay) and reads windows from them.

A bucket sums a group's summary rows of one day, so a window of the last weeks costs a row per
group and day, not one per call. A window's edge rarely falls between two days: the days the
edges fall in are read from the summary rows themselves, whose times are exact, and every other
day from its bucket, dated at its start (all of a day's rows fall on the same side of each edge).
Written in the change's transaction, under the workspace's feed version lock (app/services/
rollups.py), like the totals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    union_all,
    update,
)
from sqlmodel import Session, select

from app.services.feed_totals import same
from models import FeedDay, FeedRollup
from pipelines.rank import WINDOW_DAYS

DAY_US = 86_400 * 1_000_000
D, R = FeedDay, FeedRollup


def day_of(at_us: int) -> int:
    """The UTC day holding a moment (floor division: days before 1970 are negative)."""
    return at_us // DAY_US


def day_start() -> ColumnElement:
    """A bucket's time as windows compare it: the first microsecond of its day."""
    return cast(D.day, BigInteger) * DAY_US


def edge_days(edges_us: Iterable[int]) -> list[int]:
    """The days the given window edges fall in."""
    return sorted({day_of(edge) for edge in edges_us})


def in_days(days: list[int], *where: ColumnElement) -> ColumnElement:
    """Summary rows dated in one of these days (and meeting `where`: repeated in each day's
    term, so that SQLite reads each day from its index rather than the whole workspace)."""
    return or_(*(and_(*where, R.at_us >= day * DAY_US, R.at_us < (day + 1) * DAY_US)
                 for day in days))


def windows(at: ColumnElement, confident: ColumnElement, now_us: int) -> list:
    """What moves with the clock: confident mentions of the last 30 days, of the 30 before and
    those dated after `now`, for rows dated `at`."""
    recent_edge, previous_edge = now_us - WINDOW_DAYS * DAY_US, now_us - 2 * WINDOW_DAYS * DAY_US
    return [
        func.sum(case((at > recent_edge, confident), else_=0)),
        func.sum(case((and_(at <= recent_edge, at > previous_edge), confident), else_=0)),
        func.sum(case((at > now_us, confident), else_=0)),
    ]


def window_sums(*, session: Session, workspace_id: int, kind: str,
                now_us: int) -> list[tuple]:
    """Per summary group (cluster_id, category): windows' three counts and the weights dated
    after `now`; a group may come twice (its buckets, its edge days' rows). One statement, so
    that a call moved between a bucket's day and an edge day by a change committed meanwhile
    is counted once (two reads would see it in both, or in neither)."""
    edges = edge_days(now_us - n * WINDOW_DAYS * DAY_US for n in range(3))
    buckets = (
        select(D.cluster_id, D.category, *windows(day_start(), D.confident, now_us),
               func.sum(case((day_start() > now_us, D.recency_weight), else_=0.0)))
        .where(D.workspace_id == workspace_id, D.kind == kind, D.day > edges[0],
               D.day.not_in(edges))
        .group_by(D.cluster_id, D.category))
    rows = (
        select(R.cluster_id, R.category, *windows(R.at_us, R.confident, now_us),
               func.sum(case((R.at_us > now_us, R.recency_weight), else_=0.0)))
        .where(in_days(edges, R.workspace_id == workspace_id, R.kind == kind))
        .group_by(R.cluster_id, R.category))
    return list(session.exec(union_all(buckets, rows)).all())


def weekly_sums(*, session: Session, workspace_id: int, kind: str, cluster_ids: list[int],
                now_us: int, weeks: int) -> list[tuple]:
    """Mentions per theme and week back from `now` (0: the last), over `weeks` weeks; a theme's
    week may come twice (buckets, edge days' rows). One statement, as window_sums."""
    week_us = 7 * DAY_US
    edges = edge_days(now_us - n * week_us for n in range(weeks + 1))

    def week(at: ColumnElement) -> ColumnElement:
        return ((now_us - at) // week_us).label("week")

    bucket_week, row_week = week(day_start()), week(R.at_us)
    buckets = (
        select(D.cluster_id, bucket_week, func.sum(D.mentions))
        .where(D.cluster_id.in_(cluster_ids), D.day > edges[0],  # type: ignore[union-attr]
               D.day < edges[-1], D.day.not_in(edges))
        .group_by(D.cluster_id, bucket_week))
    rows = (
        select(R.cluster_id, row_week, func.sum(R.mentions))
        .where(in_days(edges, R.workspace_id == workspace_id, R.kind == kind),
               R.cluster_id.in_(cluster_ids),  # type: ignore[union-attr]
               R.at_us <= now_us, R.at_us > now_us - weeks * week_us)
        .group_by(R.cluster_id, row_week))
    return list(session.exec(union_all(buckets, rows)).all())


def rebuild_days(*, session: Session, workspace_id: int, kind: str) -> None:
    """Sums every group's summary rows of one kind per day afresh."""
    session.execute(delete(D).where(D.workspace_id == workspace_id, D.kind == kind))
    # floor division that SQLite and PostgreSQL agree on for days before 1970 too
    day = (R.at_us - (R.at_us % DAY_US + DAY_US) % DAY_US) // DAY_US
    sums = (select(literal(workspace_id), literal(kind), R.cluster_id, R.category, day,
                   func.sum(R.mentions), func.sum(R.confident), func.sum(R.recency_weight))
            .where(R.workspace_id == workspace_id, R.kind == kind)
            .group_by(R.cluster_id, R.category, day))
    session.execute(insert(D).from_select(
        ["workspace_id", "kind", "cluster_id", "category", "day", "mentions", "confident",
         "recency_weight"], sums))


def move_days(*, session: Session, workspace_id: int, before: list[tuple],
              after: list[tuple]) -> None:
    """Moves the buckets a call's rows (feed_totals.CALL_ROW) are or were in by its change."""
    change: dict[tuple, list] = defaultdict(lambda: [0, 0, 0.0])
    for sign, rows in ((-1, before), (1, after)):
        for kind, cluster_id, category, mentions, confident, weight, _, _, at_us in rows:
            sums = change[kind, cluster_id, category, day_of(at_us)]
            sums[0] += sign * mentions
            sums[1] += sign * confident
            sums[2] += sign * weight
    for key, sums in change.items():
        if any(sums):
            _move_day(session, workspace_id, key, *sums)


def _move_day(session: Session, workspace_id: int, key: tuple, mentions: int, confident: int,
              weight: float) -> None:
    """Adds a call's change to one bucket; a bucket left without mentions goes."""
    kind, cluster_id, category, day = key
    where = [D.workspace_id == workspace_id, D.kind == kind, D.day == day,
             same(D.cluster_id, cluster_id), same(D.category, category)]
    found = session.exec(select(D.id, D.mentions, D.confident, D.recency_weight)
                         .where(*where)).first()
    if found is None:
        session.execute(insert(D).values(
            workspace_id=workspace_id, kind=kind, cluster_id=cluster_id, category=category,
            day=day, mentions=mentions, confident=confident, recency_weight=weight))
    elif found[1] + mentions == 0:
        session.execute(delete(D).where(D.id == found[0]))
    else:
        # no confident mention left: no weight either, not a float's leftover
        left = found[2] + confident
        session.execute(update(D).where(D.id == found[0]).values(
            mentions=found[1] + mentions, confident=left,
            recency_weight=found[3] + weight if left else 0.0))
