"""The feed page: categories with their ranked themes and other groups, filters in the URL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Annotated
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from markupsafe import Markup, escape
from sqlmodel import Session

from app.db import read_snapshot
from app.deps import FeedCacheDep, RowId, SessionDep
from app.errors import NotFound
from app.services.clusters import request_rebuild
from app.services.export import raw_lost_share
from app.services.feed import Row
from app.services.feed_quotes import other_quotes, theme_quotes
from app.services.feed_stats import CategoryStats, ThemeStats, feed_groups, weekly_mentions
from app.services.jobs import get_job
from app.web.auth import safe_next
from app.web.deps import CsrfDep, PageWorkspaceDep
from app.web.facets import Progress, facets, progress
from app.web.filters import KIND_TABS, OUTCOMES, SORTS, FeedQuery, feed_query, presets
from app.web.quotes import QuoteView, quote_views
from app.web.routing import PageRoute
from app.web.sparkline import WEEKS, sparkline_svg
from app.web.templating import csrf_token, static_url, templates
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


def sections(*, session: Session, workspace_id: int, groups: list[CategoryStats],
             query: FeedQuery, now: datetime) -> list[CategorySection]:
    """Numbers from the summary tables; quotes and sparklines read for the themes shown only."""
    limit = query.limit if query.category else THEMES_PER_CATEGORY
    scope = {"session": session, "workspace_id": workspace_id, "kind": query.mention_kind,
                 "filters": query.filters()}
    shown = [t.cluster.id for g in groups for t in g.themes[:limit]]
    tops = theme_quotes(**scope, cluster_ids=shown, limit=1)
    others = other_quotes(**scope, categories=[g.category for g in groups], limit=OTHER_QUOTES)
    weeks = weekly_mentions(**scope, cluster_ids=shown, now=now, weeks=WEEKS)
    views = {v.mention_id: v for v in quote_views(
        session=session, rows=[r for rows in (*tops.values(), *others.values()) for r in rows])}
    return [CategorySection(
        category=g.category, mentions=g.stats.mentions, calls=g.stats.calls,
        why=explain(g.stats.score, g.stats.mentions),
        themes=feed_rows(g.themes[:limit], tops=tops, weeks=weeks, views=views),
        themes_total=len(g.themes), other=g.other_mentions,
        other_quotes=[views[r.mention.id] for r in others[g.category]],
        other_href=query.url("/other", category=g.category or "")) for g in groups]


def feed_rows(themes: list[ThemeStats], *, tops: dict[int, list[Row]],
              weeks: dict[int, list[int]], views: dict[int, QuoteView]) -> list[FeedRow]:
    out = []
    for rank, theme in enumerate(themes, start=1):
        g, s, top = theme.stats, theme.stats.score, tops[theme.cluster.id]
        out.append(FeedRow(
            rank=rank, id=theme.cluster.id, label=theme.cluster.label,
            category=theme.cluster.category, mentions=g.mentions, counted=s.mentions,
            calls=g.calls, accounts=g.accounts, score=s.score, trend=s.trend,
            emerging=s.emerging, why=explain(s, g.mentions),
            lost_share=raw_lost_share(s.lost_calls, s.won_calls),
            spark=sparkline_svg(weeks[theme.cluster.id]),
            quote=views[top[0].mention.id] if top else None))
    return out


def _job(session: Session, workspace_id: int, raw: str | None) -> Job | None:
    if not raw or not raw.isdigit() or int(raw) > MAX_ID:
        return None
    try:
        return get_job(session=session, workspace_id=workspace_id, job_id=int(raw))
    except NotFound:
        return None


@dataclass(frozen=True)
class FeedView:
    """What the feed page shows of the data, rendered once and kept in the feed cache between
    changes: the same for every reader of the workspace, so nothing of a session is in it."""

    body: bytes  # tabs, quick views, filters and sections (templates/_feed_body.html), UTF-8
    has_sections: bool
    progress: Progress  # its call count heads the page; empty pages count afresh


def feed_view(*, session: Session, workspace_id: int, query: FeedQuery,
              now: datetime) -> FeedView:
    """The page's view: its data all read from one snapshot, rendered after it ends."""
    with read_snapshot(session):
        groups = feed_groups(session=session, workspace_id=workspace_id,
                             kind=query.mention_kind, filters=query.filters(), sort=query.sort,
                             now=now)
        offered = facets(session=session, workspace_id=workspace_id, kind=query.mention_kind)
        shown = sections(session=session, workspace_id=workspace_id, groups=groups,
                         query=query, now=now)
        counts = progress(session=session, workspace_id=workspace_id)
    body = templates.env.get_template("_feed_body.html").render(
        query=query, sections=shown, total=sum(len(g.themes) for g in groups), tabs=KIND_TABS,
        sorts=SORTS, outcomes=OUTCOMES, presets=presets(query, now.date()), facets=offered,
        account_options=Markup("").join(
            Markup('<option value="{0}"{1}>{0}</option>').format(
                a, Markup(" selected") if a == query.account and not offered.more_accounts
                else "")
            for a in offered.accounts))
    return FeedView(body=body.encode(), has_sections=bool(shown), progress=counts)


def view_key(workspace_id: int, feed_version: int, query: FeedQuery, now: datetime) -> tuple:
    """The feed cache's key of a page view; the day too: the quick views' ranges end today."""
    return ("page", workspace_id, feed_version, query, now.date())


# where the view and the reader's CSRF token go in the page: no rendered text holds a NUL
# (app/db.py drops them)
_BODY_MARK = "\x00feed-body\x00"
_CSRF_MARK = "\x00csrf\x00"


def render_page(request: Request, *, query: FeedQuery, view: FeedView, progress: Progress,
                job: Job | None) -> Response:
    """The page around a view: what belongs to the reader's session is rendered here, and the
    view's bytes (hundreds of KB for a large workspace) are spliced in, never re-rendered."""
    if job is None and view.has_sections:
        key = (query, progress, request.state.workspace.name, request.scope["path"])
        shell = page_shell(*key)
        if not shell.current():
            page_shell.cache_clear()  # each kept shell links the old version
            shell = page_shell(*key)
        return HTMLResponse(shell.fill(csrf_token(request), view.body))
    return HTMLResponse(full_page(request, query=query, view=view, progress=progress, job=job))


def full_page(request: Request, *, query: FeedQuery, view: FeedView, progress: Progress,
              job: Job | None) -> bytes:
    """The page with its shell rendered for this request (a rebuild's progress, an empty feed)."""
    page = templates.TemplateResponse(request, "feed.html", {
        "query": query, "body": Markup(_BODY_MARK), "sections": view.has_sections,
        "tabs": KIND_TABS, "progress": progress, "job": job, "return_to": query.url(),
    })
    head, _, tail = page.body.partition(_BODY_MARK.encode())
    return head + view.body + tail


@dataclass(frozen=True)
class Shell:
    """A page with sections less the reader's CSRF token and the view: cut where they go."""

    head: tuple[bytes, ...]  # joined by the token
    tail: tuple[bytes, ...]
    statics: tuple[tuple[str, str], ...]  # (name, URL) of each static file linked, as rendered

    def current(self) -> bool:
        """False once a linked static file has changed (new CSS deployed without a restart):
        its URL's version must change on this page as on every other."""
        return all(static_url(name) == url for name, url in self.statics)

    def fill(self, token: str, body: bytes) -> bytes:
        mark = str(escape(token)).encode()
        return b"".join((mark.join(self.head), body, mark.join(self.tail)))


@lru_cache(maxsize=256)
def page_shell(query: FeedQuery, progress: Progress, workspace_name: str, path: str) -> Shell:
    """The shell of a page with sections, rendered once per query, call count and workspace:
    the template's render was most of a cached page's CPU (~0.3 of ~0.4 ms). Nothing of a
    request is in it (the template has no `request` here: a use of it fails loudly)."""
    linked: dict[str, str] = {}

    def linking(name: str) -> str:
        linked[name] = static_url(name)
        return linked[name]

    html = templates.get_template("feed.html").render(
        query=query, body=Markup(_BODY_MARK), sections=True, tabs=KIND_TABS, progress=progress,
        job=None, return_to=query.url(), workspace=_Named(workspace_name),
        csrf_token=lambda: _CSRF_MARK, path=path, static_url=linking).encode()
    head, _, tail = html.partition(_BODY_MARK.encode())
    mark = _CSRF_MARK.encode()
    return Shell(head=tuple(head.split(mark)), tail=tuple(tail.split(mark)),
                 statics=tuple(linked.items()))


@dataclass(frozen=True)
class _Named:
    name: str


@router.get("/", response_class=HTMLResponse)
def feed_page(request: Request, session: SessionDep, workspace: PageWorkspaceDep,
              cache: FeedCacheDep) -> Response:
    query = feed_query(request.scope["query_string"])
    now = utcnow()
    view = cache.get_or_compute(
        view_key(workspace.id, workspace.feed_version, query, now),
        lambda: feed_view(session=session, workspace_id=workspace.id, query=query, now=now))
    return render_page(
        request, query=query, view=view,
        progress=view.progress if view.has_sections
        else progress(session=session, workspace_id=workspace.id),
        job=_job(session, workspace.id, request.query_params.get("job")))


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
