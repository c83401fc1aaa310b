"""Day buckets (app/services/feed_days.py) against the row-by-row feed: days before 1970, and
changes committed while a feed is read."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, update
from sqlmodel import Session, select
from starlette.requests import Request

from app.schemas import FeedOut
from app.services import rollups
from app.services.calls import delete_call_content
from app.services.export import brief_markdown, clusters_csv, quotes_csv
from app.services.feed import FeedFilters
from app.services.feed_stats import feed_groups, weekly_mentions
from app.services.feed_view import feed_page
from app.web.clusters import cluster_page
from app.web.feed import feed_view
from app.web.filters import FeedQuery
from app.web.sparkline import WEEKS
from models import Call, Cluster, ClusterMember, Mention, Workspace
from tests.app.test_feed_rollups import (
    NOW,
    _assert_kept_equals_recount,
    _summarised,
    assert_trend_and_weeks_equal_the_rows,
)


@pytest.mark.parametrize("now", [datetime(1970, 1, 20, 7, 30, tzinfo=UTC),
                                 datetime(1970, 2, 10, 0, 0, tzinfo=UTC)])
def test_days_before_1970_equal_the_row_by_row_feed(engine, now):
    """Days before 1970 are negative: moved (Python's floor division) and rebuilt (SQL's
    truncating one, corrected) they must agree, and windows and weeks read from them must equal
    the row-by-row ones."""
    rng = random.Random(5)
    with Session(engine) as session:
        ws, calls, clusters = _summarised(session, rng, "old", 40)
        for call in calls:
            call.started_at = now - timedelta(days=rng.uniform(-3, 95), seconds=rng.randrange(86400))
            session.add(call)
            for mention in session.exec(select(Mention).where(Mention.call_id == call.id)):
                mention.confidence = 0.95
                session.add(mention)
            rollups.refresh_call(session=session, call=call)
        session.commit()
        _assert_kept_equals_recount(session, ws.id, "old")
        assert_trend_and_weeks_equal_the_rows(session, ws.id, clusters, now, quotes=2)


def _recent(session: Session, workspace_id: int, now: datetime) -> dict:
    groups = feed_groups(session=session, workspace_id=workspace_id, kind="objection",
                         filters=FeedFilters(), now=now)
    return {t.cluster.id: t.stats.score.recent for g in groups for t in g.themes}


def _confident_themed_call(session: Session, calls: list[Call]) -> Call:
    """The first call with objection mentions in a theme, those mentions made confident."""
    for call in calls:
        themed = session.exec(select(Mention).join(ClusterMember,
                              ClusterMember.mention_id == Mention.id)
                              .where(Mention.call_id == call.id,
                                     Mention.kind == "objection")).all()
        if themed:
            for mention in themed:
                mention.confidence = 0.95
                session.add(mention)
            return call
    raise AssertionError("no call with a theme")


def _summarised_with_a_call_at(session: Session, rng: random.Random, name: str,
                               started_at: datetime) -> tuple:
    """A summarised workspace, one of whose confident themed calls is dated `started_at`
    (summaries moved and committed); the workspace's id and that call's."""
    ws, calls, _ = _summarised(session, rng, name, 20)
    call = _confident_themed_call(session, calls)
    call.started_at = started_at
    session.add(call)
    rollups.refresh_call(session=session, call=call)
    session.commit()
    return ws.id, call.id


def _read_while_committing(engine, after_reading: str, change, read):
    """`read` in a session of its own, `change` made by another session and committed just
    after the first statement holding `after_reading` ran."""
    state = {"done": False}

    def commit(_conn, _cursor, statement, *_args):
        if not state["done"] and after_reading in statement:
            state["done"] = True
            with Session(engine) as writer:
                change(writer)
                writer.commit()

    event.listen(engine, "after_cursor_execute", commit)
    try:
        with Session(engine) as reader:
            answer = read(reader)
    finally:
        event.remove(engine, "after_cursor_execute", commit)
    assert state["done"]
    return answer


def _read_while_moving(engine, after_reading: str, call_id: int, to: datetime, read):
    """`read` while the call is moved to `to`, committed just after `after_reading` ran."""

    def move(writer: Session) -> None:
        call = writer.get(Call, call_id)
        call.started_at = to
        writer.add(call)
        rollups.refresh_call(session=writer, call=call)

    return _read_while_committing(engine, after_reading, move, read)


def _moved_while_read(engine, read):
    """`read` before, during and after a call with confident objection themes moves from ten
    days back (its day read from a bucket) to an hour back (today: read from rows), the move
    committed just after the buckets are read."""
    rng = random.Random(8)
    with Session(engine) as session:
        workspace_id, moved_id = _summarised_with_a_call_at(session, rng, "race",
                                                            NOW - timedelta(days=10))
        before = read(session, workspace_id, NOW)
    during = _read_while_moving(engine, "FROM feed_day", moved_id, NOW - timedelta(hours=1),
                                lambda reader: read(reader, workspace_id, NOW))
    with Session(engine) as session:
        after = read(session, workspace_id, NOW)
    return before, during, after


def test_a_call_committed_while_the_feed_is_read_is_counted_once(engine):
    """A theme's 30-day count read while a call moves between a bucket's day and an edge day
    counts the call in one place, not in both."""
    before, during, after = _moved_while_read(engine, _recent)
    assert during in (before, after), (during, before, after)


def _weeks(session: Session, workspace_id: int, now: datetime) -> dict:
    ids = list(session.exec(select(ClusterMember.cluster_id).distinct()))
    return weekly_mentions(session=session, workspace_id=workspace_id, kind="objection",
                           filters=FeedFilters(), cluster_ids=ids, now=now, weeks=WEEKS)


def test_a_call_committed_while_the_sparklines_are_read_is_counted_once(engine):
    """The sparklines likewise."""
    before, during, after = _moved_while_read(engine, _weeks)
    assert during in (before, after), (during, before, after)


def _recency(session: Session, workspace_id: int, now: datetime) -> dict:
    page = _api_page(session, workspace_id, now)
    return {item.id: round(item.components.recency, 6) for item in page.items}


def _api_page(session: Session, workspace_id: int, now: datetime) -> FeedOut:
    return feed_page(session=session, workspace_id=workspace_id, kind="objections",
                     filters=FeedFilters(), sort="score", limit=100, quotes=5, cursor=None,
                     now=now)


def test_a_call_brought_back_from_years_ahead_while_the_feed_is_read_keeps_recency(engine):
    """A call dated three years ahead is moved to ten days back just after the API's feed read
    the kept totals: read apart from them, the windows no longer subtracted its huge stored
    weight from the kept one, and the theme's recency (at most 1) came out near 1e11."""
    rng = random.Random(8)
    with Session(engine) as session:
        workspace_id, moved_id = _summarised_with_a_call_at(session, rng, "ahead-race",
                                                            NOW + timedelta(days=3 * 365))
        before = _recency(session, workspace_id, NOW)
    during = _read_while_moving(engine, "FROM feed_total", moved_id, NOW - timedelta(days=10),
                                lambda reader: _recency(reader, workspace_id, NOW))
    with Session(engine) as session:
        after = _recency(session, workspace_id, NOW)
    assert during in (before, after), (during, before, after)


def _web_view(session: Session, workspace_id: int, now: datetime) -> bytes:
    return feed_view(session=session, workspace_id=workspace_id, query=FeedQuery(),
                     now=now).body


def _shown_as_before_or_after(engine, after_reading: str, change, read) -> None:
    """read's answer while change commits just after the statement holding after_reading is
    the answer from before the change or the one from after it (and the two differ)."""
    with Session(engine) as session:
        before = read(session)
    during = _read_while_committing(engine, after_reading, change, read)
    with Session(engine) as session:
        after = read(session)
    assert before != after
    assert during in (before, after)


@pytest.mark.parametrize("read", [_api_page, _web_view], ids=["api", "page"])
def test_a_call_cleared_while_the_feed_is_read_is_shown_as_before_or_after(engine, read):
    """A re-delivered call's content goes just after the windows are read: the quotes (and the
    page's sparklines and facets), read after them, come from the same moment as the numbers."""
    rng = random.Random(8)
    with Session(engine) as session:
        workspace_id, cleared_id = _summarised_with_a_call_at(session, rng, "clear-race",
                                                              NOW - timedelta(days=10))

    def clear(writer: Session) -> None:
        delete_call_content(session=writer, call=writer.get(Call, cleared_id))

    _shown_as_before_or_after(engine, "FROM feed_day", clear,
                              lambda reader: read(reader, workspace_id, NOW))


def test_a_call_won_while_the_feed_is_exported_is_shown_as_before_or_after(engine):
    """A lost call is marked won just after the export read the mentions: the workspace's loss
    rate, read after them, is of the same moment as the calls' outcomes the scores count."""
    rng = random.Random(8)
    with Session(engine) as session:
        workspace_id, won_id = _summarised_with_a_call_at(session, rng, "export-race",
                                                          NOW - timedelta(days=10))

    def export(session: Session) -> str:
        return clusters_csv(session=session, workspace_id=workspace_id, kind="objection",
                            filters=FeedFilters(), now=NOW)

    def win(writer: Session) -> None:
        call = writer.get(Call, won_id)
        call.outcome = "won"
        writer.add(call)
        rollups.refresh_call(session=writer, call=call)

    _shown_as_before_or_after(engine, "FROM mention", win, export)


def _theme_of(session: Session, call_id: int) -> int:
    return session.exec(select(ClusterMember.cluster_id).join(
        Mention, Mention.id == ClusterMember.mention_id).where(
        Mention.call_id == call_id, Mention.kind == "objection")).first()


def _brief(session: Session, workspace_id: int, cluster_id: int) -> str:
    return brief_markdown(session=session, cluster=session.get(Cluster, cluster_id), now=NOW)


def _theme_page(session: Session, workspace_id: int, cluster_id: int) -> bytes:
    request = Request({"type": "http", "method": "GET", "path": f"/clusters/{cluster_id}",
                       "query_string": b"", "headers": [], "session": {"csrf": "fixed"}})
    return cluster_page(cluster_id, request, session, session.get(Workspace, workspace_id)).body


@pytest.mark.parametrize("read", [_brief, _theme_page], ids=["brief", "page"])
def test_a_call_cleared_while_a_theme_is_read_is_shown_as_before_or_after(engine, read):
    """A call of the theme loses its content just after the theme's rows are read: its variants
    and quotes, read after them, come from the same moment as its numbers."""
    rng = random.Random(8)
    with Session(engine) as session:
        workspace_id, cleared_id = _summarised_with_a_call_at(session, rng, "theme-race",
                                                              NOW - timedelta(days=10))
        cluster_id = _theme_of(session, cleared_id)

    def clear(writer: Session) -> None:
        delete_call_content(session=writer, call=writer.get(Call, cleared_id))

    _shown_as_before_or_after(engine, "FROM mention", clear,
                              lambda reader: read(reader, workspace_id, cluster_id))


def test_calls_won_while_the_quotes_are_exported_are_shown_as_before_or_after(engine):
    """Every call is marked won just after the export read the first kind's quotes: the other
    kinds' quotes, read after them, carry the outcomes of the same moment."""
    rng = random.Random(8)
    with Session(engine) as session:
        workspace_id, _ = _summarised_with_a_call_at(session, rng, "quotes-race",
                                                     NOW - timedelta(days=10))

    def export(session: Session) -> str:
        return quotes_csv(session=session, workspace_id=workspace_id,
                          kinds=["objection", "question", "pain"], filters=FeedFilters())

    def win(writer: Session) -> None:
        writer.execute(update(Call).where(Call.workspace_id == workspace_id)
                       .values(outcome="won"))

    _shown_as_before_or_after(engine, "FROM mention", win, export)
