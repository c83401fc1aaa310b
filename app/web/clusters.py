"""Theme pages (label, numbers, every quote grouped by phrasing variant) and other groups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session

from app.db import read_snapshot
from app.deps import RowId, SessionDep
from app.errors import Unprocessable
from app.services import clusters as service
from app.services.cluster_view import cluster_detail
from app.services.export import cluster_rows, cluster_stats
from app.services.feed import other_rows, when
from app.web.deps import CsrfDep, PageWorkspaceDep
from app.web.filters import FeedQuery
from app.web.quotes import QuoteView, quote_views
from app.web.routing import PageRoute
from app.web.sparkline import sparkline_svg, weekly_counts
from app.web.templating import templates
from models import Cluster
from models.base import utcnow

router = APIRouter(route_class=PageRoute, include_in_schema=False)

VARIANTS_PER_PAGE = 8
MAX_LABEL = 300


@dataclass(frozen=True)
class VariantGroup:
    text: str
    count: int
    quotes: list[QuoteView]


def _page_number(raw: str | None) -> int:
    return max(1, int(raw)) if raw and raw.isdigit() else 1


@router.get("/clusters/{cluster_id}", response_class=HTMLResponse)
def cluster_page(cluster_id: RowId, request: Request, session: SessionDep,
                 workspace: PageWorkspaceDep) -> Response:
    """The theme's page: its cluster, rows, variants and quotes read and rendered in one
    snapshot."""
    with read_snapshot(session):
        cluster = service.get_cluster(session=session, workspace_id=workspace.id,
                                      cluster_id=cluster_id)
        return _cluster_page(request, session, cluster)


def _cluster_page(request: Request, session: Session, cluster: Cluster) -> Response:
    safe = request.query_params.get("safe") == "1"
    rows = cluster_rows(session=session, cluster=cluster)
    variants = cluster_detail(session=session, cluster=cluster)["variants"]
    pages = max(1, -(-len(variants) // VARIANTS_PER_PAGE))
    page = min(_page_number(request.query_params.get("page")), pages)
    shown = variants[(page - 1) * VARIANTS_PER_PAGE:page * VARIANTS_PER_PAGE]
    by_id = {r.mention.id: r for r in rows}
    wanted = [by_id[mid] for v in shown for mid in v["mention_ids"] if mid in by_id]
    views = {q.mention_id: q for q in quote_views(session=session, rows=wanted, safe=safe)}
    groups = []
    for v in shown:
        quotes = [views[mid] for mid in v["mention_ids"] if mid in views]
        if quotes:
            groups.append(VariantGroup(text=quotes[0].text, count=v["count"], quotes=quotes))
    now = utcnow()
    return templates.TemplateResponse(request, "cluster.html", {
        "cluster": cluster, "stats": cluster_stats(rows, now=now), "groups": groups,
        "variant_total": len(variants), "page": page, "pages": pages, "safe": safe,
        "per_page": VARIANTS_PER_PAGE,
        "spark": sparkline_svg(weekly_counts((when(r.call) for r in rows), now=now),
                               width=220, height=44),
        "saved": request.query_params.get("saved") == "1",
    })


@router.post("/clusters/{cluster_id}/label")
def rename_cluster(cluster_id: RowId, session: SessionDep, workspace: PageWorkspaceDep,
                   _csrf: CsrfDep, label: Annotated[str, Form()] = "") -> Response:
    """The same rename as PATCH /v1/clusters/{id}: the label then survives rebuilds."""
    label = label.strip()
    if not label or len(label) > MAX_LABEL:
        raise Unprocessable(f"a label needs 1 to {MAX_LABEL} characters",
                            detail={"field": "label"})
    cluster = service.get_cluster(session=session, workspace_id=workspace.id,
                                  cluster_id=cluster_id)
    service.rename(session=session, cluster=cluster, label=label)
    return RedirectResponse(f"/clusters/{cluster.id}?saved=1", status_code=303)


OTHER_PER_PAGE = 50


@router.get("/other", response_class=HTMLResponse)
def other_page(request: Request, session: SessionDep, workspace: PageWorkspaceDep) -> Response:
    """A category's other group: the mentions no theme holds, searchable, page by page."""
    query = FeedQuery.from_params(request.query_params)
    q = request.query_params.get("q", "").strip()[:200]
    rows = other_rows(session=session, workspace_id=workspace.id, kind=query.mention_kind,
                      category=query.category or None, q=q)
    pages = max(1, -(-len(rows) // OTHER_PER_PAGE))
    page = min(_page_number(request.query_params.get("page")), pages)
    shown = rows[(page - 1) * OTHER_PER_PAGE:page * OTHER_PER_PAGE]
    base = query.url("/other")

    def href(n: int) -> str:
        return f"{base}{'&' if '?' in base else '?'}{urlencode({'q': q, 'page': n})}"

    return templates.TemplateResponse(request, "other.html", {
        "query": query, "q": q, "quotes": quote_views(session=session, rows=shown),
        "total": len(rows), "page": page, "pages": pages,
        "prev_href": href(page - 1) if page > 1 else None,
        "next_href": href(page + 1) if page < pages else None,
    })
