"""The feed page: ranked clusters with filters in the URL, and the rebuild button."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from markupsafe import Markup
from sqlmodel import Session

from app.deps import RowId, SessionDep
from app.errors import NotFound
from app.services.clusters import request_rebuild
from app.services.export import raw_lost_share
from app.services.feed import FeedItem, best_quotes, build_feed, when
from app.services.jobs import get_job
from app.web.auth import safe_next
from app.web.deps import CsrfDep, PageWorkspaceDep
from app.web.facets import facets, progress
from app.web.filters import KIND_TABS, OUTCOMES, SORTS, FeedQuery, presets
from app.web.quotes import QuoteView, quote_views
from app.web.routing import PageRoute
from app.web.sparkline import sparkline_svg, weekly_counts
from app.web.templating import templates
from models import Job
from models.base import MAX_ID, utcnow

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@dataclass(frozen=True)
class FeedRow:
    rank: int
    id: int
    label: str
    category: str | None
    mentions: int
    calls: int
    accounts: int
    score: float
    trend: float
    emerging: bool
    lost_share: float | None
    spark: Markup
    quote: QuoteView | None


def feed_rows(*, session: Session, items: list[FeedItem], now: datetime) -> list[FeedRow]:
    tops = {item.cluster.id: best_quotes(item.rows, 1) for item in items}
    views = {v.mention_id: v for v in quote_views(
        session=session, rows=[r for top in tops.values() for r in top])}
    out = []
    for rank, item in enumerate(items, start=1):
        s, top = item.score, tops[item.cluster.id]
        out.append(FeedRow(
            rank=rank, id=item.cluster.id, label=item.cluster.label,
            category=item.cluster.category, mentions=s.mentions, calls=s.calls,
            accounts=s.accounts, score=s.score, trend=s.trend, emerging=s.emerging,
            lost_share=raw_lost_share(s.lost_calls, s.won_calls),
            spark=sparkline_svg(weekly_counts((when(r.call) for r in item.rows), now=now)),
            quote=views[top[0].mention.id] if top else None))
    return out


def _job(session: Session, workspace_id: int, raw: str | None) -> Job | None:
    if not raw or not raw.isdigit() or int(raw) > MAX_ID:
        return None
    try:
        return get_job(session=session, workspace_id=workspace_id, job_id=int(raw))
    except NotFound:
        return None


@router.get("/", response_class=HTMLResponse)
def feed_page(request: Request, session: SessionDep, workspace: PageWorkspaceDep) -> Response:
    query = FeedQuery.from_params(request.query_params)
    now = utcnow()
    items = build_feed(session=session, workspace_id=workspace.id, kind=query.mention_kind,
                       filters=query.filters(), sort=query.sort, now=now)
    return templates.TemplateResponse(request, "feed.html", {
        "query": query, "rows": feed_rows(session=session, items=items[:query.limit], now=now),
        "total": len(items), "tabs": KIND_TABS, "sorts": SORTS, "outcomes": OUTCOMES,
        "presets": presets(query, now.date()),
        "facets": facets(session=session, workspace_id=workspace.id, kind=query.mention_kind),
        "progress": progress(session=session, workspace_id=workspace.id),
        "job": _job(session, workspace.id, request.query_params.get("job")),
        "return_to": query.url(),
    })


def with_param(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    params = [(k, v) for k, v in parse_qsl(parts.query) if k != name] + [(name, value)]
    return f"{parts.path}?{urlencode(params)}"


@router.post("/rebuild")
def rebuild(request: Request, session: SessionDep, workspace: PageWorkspaceDep, _csrf: CsrfDep,
            return_to: Annotated[str, Form()] = "/") -> Response:
    """Queues a re-cluster; the feed then shows its progress."""
    job = request_rebuild(session=session, workspace_id=workspace.id)
    return RedirectResponse(with_param(safe_next(return_to), "job", str(job.id)),
                            status_code=303)


@router.get("/web/jobs/{job_id}")
def job_status(job_id: RowId, session: SessionDep, workspace: PageWorkspaceDep) -> Response:
    """A job's status for the page that polls it."""
    job = get_job(session=session, workspace_id=workspace.id, job_id=job_id)
    return JSONResponse({"id": job.id, "kind": job.kind, "status": job.status,
                         "progress": job.progress, "error": job.error})
