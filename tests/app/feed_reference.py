"""The feed computed row by row from every mention (app/services/feed.py's build_categories),
as the API answered before the summary tables: the reference the rollup answers must equal."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from sqlmodel import Session

from app.schemas import CategoryOut, FeedItemOut, FeedOut, OtherOut, Quote, ScoreOut
from app.services.feed import (
    FEED_KINDS,
    CategoryGroup,
    FeedFilters,
    FeedItem,
    Row,
    best_quotes,
    build_categories,
    decode_cursor,
    encode_cursor,
)
from pipelines.rank import explain, order


def quote_out(row: Row) -> Quote:
    m = row.mention
    return Quote(mention_id=m.id, text=m.text, call_id=m.call_id, speaker=m.speaker,
                 start_ms=m.start_ms, account=row.call.account, category=m.category)


def item_out(item: FeedItem, quotes: int) -> FeedItemOut:
    s = item.score
    return FeedItemOut(
        id=item.cluster.id, label=item.cluster.label, category=item.cluster.category,
        keywords=list(item.cluster.keywords or []), mentions=len(item.rows),
        confident_mentions=s.mentions, calls=len({r.call.id for r in item.rows}),
        accounts=len({r.call.account for r in item.rows if r.call.account}),
        score=s.score, trend=s.trend, emerging=s.emerging, why=explain(s, len(item.rows)),
        components=ScoreOut(**{k: getattr(s, k) for k in ScoreOut.model_fields}),
        quotes=[quote_out(r) for r in best_quotes(item.rows, quotes)],
    )


def other_href(kind: str, category: str | None) -> str:
    query = urlencode({"category": category}) if category else ""
    return f"/v1/feed/{kind}/other" + (f"?{query}" if query else "")


def category_out(group: CategoryGroup, kind: str, *, themes: int, quotes: int) -> CategoryOut:
    s = group.score
    return CategoryOut(
        category=group.category, mentions=group.mentions, confident_mentions=s.mentions,
        calls=len({r.call.id for t in group.themes for r in t.rows} |
                  {r.call.id for r in group.other}),
        score=s.score, why=explain(s, group.mentions),
        themes=[item_out(t, quotes) for t in group.themes[:themes]],
        themes_total=len(group.themes),
        other=OtherOut(mentions=len(group.other), calls=len({r.call.id for r in group.other}),
                       quotes=[quote_out(r) for r in group.other[:quotes]],
                       href=other_href(kind, group.category)),
    )


def reference_feed_page(*, session: Session, workspace_id: int, kind: str, filters: FeedFilters,
                        sort: str, limit: int, quotes: int, cursor: str | None,
                        themes: int = 10, now: datetime | None = None) -> FeedOut:
    """The feed computed from every mention row, as it was before the summary tables."""
    offset = decode_cursor(cursor)
    groups = build_categories(session=session, workspace_id=workspace_id,
                              kind=FEED_KINDS[kind], filters=filters, sort=sort, now=now)
    items = {t.cluster.id: t for g in groups for t in g.themes}
    ranked = [items[cid] for cid in order({cid: t.score for cid, t in items.items()}, sort,
                                          {cid: len(t.rows) for cid, t in items.items()})]
    page = ranked[offset:offset + limit]
    more = offset + limit < len(ranked)
    return FeedOut(categories=[category_out(g, kind, themes=themes, quotes=quotes)
                               for g in groups],
                   items=[item_out(i, quotes) for i in page],
                   next=encode_cursor(offset + limit) if more else None,
                   total=len(ranked), other=sum(len(g.other) for g in groups))
