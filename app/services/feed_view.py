"""The feed as the API shows it: categories with their ranked themes and other groups."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from sqlmodel import Session

from app.db import read_snapshot
from app.schemas import (
    CategoryOut,
    FeedItemOut,
    FeedOut,
    OtherMentionOut,
    OtherOut,
    OtherPage,
    Quote,
    ScoreOut,
)
from app.services.feed import (
    FEED_KINDS,
    FeedFilters,
    Row,
    decode_cursor,
    encode_cursor,
    other_rows,
)
from app.services.feed_quotes import other_quotes, theme_quotes
from app.services.feed_stats import CategoryStats, ThemeStats, feed_groups, ranked_themes
from pipelines.rank import explain


def quote_out(row: Row) -> Quote:
    m = row.mention
    return Quote(mention_id=m.id, text=m.text, call_id=m.call_id, speaker=m.speaker,
                 start_ms=m.start_ms, account=row.call.account, category=m.category)


def item_out(theme: ThemeStats, quotes: list[Row]) -> FeedItemOut:
    g, s = theme.stats, theme.stats.score
    return FeedItemOut(
        id=theme.cluster.id, label=theme.cluster.label, category=theme.cluster.category,
        keywords=list(theme.cluster.keywords or []), mentions=g.mentions,
        confident_mentions=s.mentions, calls=g.calls, accounts=g.accounts,
        score=s.score, trend=s.trend, emerging=s.emerging, why=explain(s, g.mentions),
        components=ScoreOut(**{k: getattr(s, k) for k in ScoreOut.model_fields}),
        quotes=[quote_out(r) for r in quotes],
    )


def other_href(kind: str, category: str | None) -> str:
    query = urlencode({"category": category}) if category else ""
    return f"/v1/feed/{kind}/other" + (f"?{query}" if query else "")


def category_out(group: CategoryStats, kind: str, *, themes: int, quotes: dict[int, list[Row]],
                 other_quotes: list[Row]) -> CategoryOut:
    s = group.stats.score
    return CategoryOut(
        category=group.category, mentions=group.stats.mentions, confident_mentions=s.mentions,
        calls=group.stats.calls, score=s.score, why=explain(s, group.stats.mentions),
        themes=[item_out(t, quotes[t.cluster.id]) for t in group.themes[:themes]],
        themes_total=len(group.themes),
        other=OtherOut(mentions=group.other_mentions, calls=group.other_calls,
                       quotes=[quote_out(r) for r in other_quotes],
                       href=other_href(kind, group.category)),
    )


def feed_page(*, session: Session, workspace_id: int, kind: str, filters: FeedFilters,
              sort: str, limit: int, quotes: int, cursor: str | None,
              themes: int = 10, now: datetime | None = None) -> FeedOut:
    """Numbers from the summary tables; quotes read only for the themes shown; all of one
    snapshot."""
    offset = decode_cursor(cursor)
    mention_kind = FEED_KINDS[kind]
    with read_snapshot(session):
        groups = feed_groups(session=session, workspace_id=workspace_id, kind=mention_kind,
                             filters=filters, sort=sort, now=now)
        ranked = ranked_themes(groups, sort)
        page = ranked[offset:offset + limit]
        shown = {t.cluster.id for g in groups for t in g.themes[:themes]} | {
            t.cluster.id for t in page}
        best = theme_quotes(session=session, workspace_id=workspace_id, kind=mention_kind,
                            filters=filters, cluster_ids=sorted(shown), limit=quotes)
        loose = other_quotes(session=session, workspace_id=workspace_id, kind=mention_kind,
                             filters=filters, categories=[g.category for g in groups],
                             limit=quotes)
        more = offset + limit < len(ranked)
        return FeedOut(categories=[category_out(g, kind, themes=themes, quotes=best,
                                                other_quotes=loose[g.category]) for g in groups],
                       items=[item_out(t, best[t.cluster.id]) for t in page],
                       next=encode_cursor(offset + limit) if more else None,
                       total=len(ranked), other=sum(g.other_mentions for g in groups))


def other_page(*, session: Session, workspace_id: int, kind: str, category: str | None,
               q: str | None, limit: int, cursor: str | None) -> OtherPage:
    """A category's other group (every category's without one), optionally searched."""
    offset = decode_cursor(cursor)
    rows = other_rows(session=session, workspace_id=workspace_id, kind=FEED_KINDS[kind],
                      category=category, q=q)
    page = rows[offset:offset + limit]
    items = [OtherMentionOut(**quote_out(r).model_dump(),
                             confidence=round(r.mention.confidence, 4),
                             context=r.mention.context, started_at=r.call.started_at,
                             call_title=r.call.title) for r in page]
    more = offset + limit < len(rows)
    return OtherPage(items=items, total=len(rows),
                     next=encode_cursor(offset + limit) if more else None)
