"""The feed page: categories with their ranked themes and other groups, filters in the URL."""

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
from app.services.feed import CategoryGroup, FeedItem, best_quotes, build_categories, when
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
from pipelines.rank import explain

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@dataclass(frozen=True)
class FeedRow:
    rank: int
    id: int
    label: str
    category: str | None
    mentions: int
    counted: int  # confident mentions: the ones the ranking (and sort=mentions) counts
    calls: int
    accounts: int
    score: float
    trend: float
    emerging: bool
    why: str
    lost_share: float | None
    spark: Markup
    quote: QuoteView | None


@dataclass(frozen=True)
class CategorySection:
    category: str | None
    mentions: int
    calls: int
    why: str
    themes: list[FeedRow]
    themes_total: int
    other: int
    other_quotes: list[QuoteView]
    other_href: str


# A category section lists this many themes until it is the only category shown.
THEMES_PER_CATEGORY = 8
OTHER_QUOTES = 3


def sections(*, session: Session, groups: list[CategoryGroup], query: FeedQuery,
             now: datetime) -> list[CategorySection]:
    limit = query.limit if query.category else THEMES_PER_CATEGORY
    out = []
    for g in groups:
        others = quote_views(session=session, rows=g.other[:OTHER_QUOTES])
        calls = {r.call.id for t in g.themes for r in t.rows} | {r.call.id for r in g.other}
        out.append(CategorySection(
            category=g.category, mentions=g.mentions, calls=len(calls),
            why=explain(g.score, g.mentions),
            themes=feed_rows(session=session, items=g.themes[:limit], now=now),
            themes_total=len(g.themes), other=len(g.other), other_quotes=others,
            other_href=query.url("/other", category=g.category or "")))
    return out


def feed_rows(*, session: Session, items: list[FeedItem], now: datetime) -> list[FeedRow]:
    tops = {item.cluster.id: best_quotes(item.rows, 1) for item in items}
    views = {v.mention_id: v for v in quote_views(
        session=session, rows=[r for top in tops.values() for r in top])}
    out = []
    for rank, item in enumerate(items, start=1):
        s, top = item.score, tops[item.cluster.id]
        out.append(FeedRow(
            rank=rank, id=item.cluster.id, label=item.cluster.label,
            category=item.cluster.category, mentions=len(item.rows), counted=s.mentions,
            calls=len({r.call.id for r in item.rows}),
            accounts=len({r.call.account for r in item.rows if r.call.account}),
            score=s.score, trend=s.trend, emerging=s.emerging, why=explain(s, len(item.rows)),
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
    groups = build_categories(session=session, workspace_id=workspace.id,
                              kind=query.mention_kind, filters=query.filters(), sort=query.sort,
                              now=now)
    return templates.TemplateResponse(request, "feed.html", {
        "query": query, "sections": sections(session=session, groups=groups, query=query, now=now),
        "total": sum(len(g.themes) for g in groups), "tabs": KIND_TABS, "sorts": SORTS,
        "outcomes": OUTCOMES,
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
