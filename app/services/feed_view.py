"""The feed as the API shows it: a page of ranked clusters with their quotes."""

from __future__ import annotations

from sqlmodel import Session

from app.jobs.placement import unclustered_count
from app.schemas import FeedItemOut, FeedOut, Quote, ScoreOut
from app.services.feed import (
    FEED_KINDS,
    FeedFilters,
    FeedItem,
    Row,
    best_quotes,
    build_feed,
    decode_cursor,
    encode_cursor,
)


def quote_out(row: Row) -> Quote:
    m = row.mention
    return Quote(mention_id=m.id, text=m.text, call_id=m.call_id, speaker=m.speaker,
                 start_ms=m.start_ms, account=row.call.account, category=m.category)


def item_out(item: FeedItem, quotes: int) -> FeedItemOut:
    s = item.score
    return FeedItemOut(
        id=item.cluster.id, label=item.cluster.label, category=item.cluster.category,
        keywords=list(item.cluster.keywords or []), mentions=s.mentions, calls=s.calls,
        accounts=s.accounts, score=s.score, trend=s.trend, emerging=s.emerging,
        components=ScoreOut(**{k: getattr(s, k) for k in ScoreOut.model_fields}),
        quotes=[quote_out(r) for r in best_quotes(item.rows, quotes)],
    )


def feed_page(*, session: Session, workspace_id: int, kind: str, filters: FeedFilters,
              sort: str, limit: int, quotes: int, cursor: str | None) -> FeedOut:
    offset = decode_cursor(cursor)
    items = build_feed(session=session, workspace_id=workspace_id, kind=FEED_KINDS[kind],
                       filters=filters, sort=sort)
    page = items[offset:offset + limit]
    more = offset + limit < len(items)
    loose, _ = unclustered_count(session=session, workspace_id=workspace_id,
                                 kind=FEED_KINDS[kind])
    return FeedOut(items=[item_out(i, quotes) for i in page],
                   next=encode_cursor(offset + limit) if more else None,
                   total=len(items), unclustered=loose)
