from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from app.deps import FeedCacheDep, SessionDep, WorkspaceDep
from app.feed_hits import alias
from app.schemas import FeedOut, OtherPage
from app.services.feed import FeedFilters
from app.services.feed_cache import answer, etag_matches
from app.services.feed_view import feed_page, other_page
from models.base import aware

router = APIRouter(tags=["feed"])

Sort = Literal["score", "mentions", "calls", "trend"]


@router.get("/feed/{kind}", response_model=FeedOut)
def read_feed(
    kind: Literal["objections", "questions", "pains"],
    request: Request, session: SessionDep, workspace: WorkspaceDep, cache: FeedCacheDep,
    since: Annotated[datetime | None, Query(description="calls on or after (ISO-8601)")] = None,
    until: Annotated[datetime | None, Query(description="calls on or before (ISO-8601)")] = None,
    category: str | None = None, deal_stage: str | None = None,
    outcome: Literal["won", "lost", "open"] | None = None, account: str | None = None,
    tags: Annotated[list[str] | None, Query(description="calls carrying every tag")] = None,
    roles: Annotated[Literal["all", "confident"], Query(
        description="confident: leave out calls whose speaker roles are unsure")] = "all",
    sort: Sort = "score",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    quotes: Annotated[int, Query(ge=0, le=50, description="quotes per theme")] = 5,
    themes: Annotated[int, Query(ge=0, le=200, description="themes per category")] = 10,
    cursor: str | None = None,
) -> Response:
    """Every category heard, best first, each with its themes ranked by score (see
    `pipelines/rank.py`: volume, distinct calls and accounts, recency, 30-day trend and lost-deal
    lift, counting confident mentions only; `why` says it in words) and an `other` group holding
    the mentions no theme has taken. `items` lists all themes best first, page by page. Filters
    narrow the mentions counted. Answers carry an ETag: send it back as If-None-Match and an
    unchanged feed answers 304 Not Modified."""
    filters = FeedFilters(since=aware(since), until=aware(until), category=category,
                          deal_stage=deal_stage, outcome=outcome, account=account,
                          tags=tuple(tags or ()), confident_roles=roles == "confident")
    page = {"kind": kind, "filters": filters, "sort": sort, "limit": limit, "quotes": quotes,
            "cursor": cursor, "themes": themes}
    version = (workspace.id, workspace.feed_version)
    found = cache.get_or_compute(
        ("api", *version, *page.items()),
        lambda: answer(feed_page(session=session, workspace_id=workspace.id, **page)
                       .model_dump_json().encode(), workspace_id=version[0],
                       feed_version=version[1]),
        alias=alias(*version, request.scope["path"], request.scope["query_string"]))
    if etag_matches(request.headers.get("if-none-match"), found.etag):
        return Response(status_code=304, headers={"ETag": found.etag})
    return Response(content=found.body, media_type="application/json",
                    headers={"ETag": found.etag})


@router.get("/feed/{kind}/other", response_model=OtherPage)
def read_other(
    kind: Literal["objections", "questions", "pains"],
    session: SessionDep, workspace: WorkspaceDep,
    category: Annotated[str | None, Query(description="one category's group; all when absent")]
    = None,
    q: Annotated[str | None, Query(max_length=200, description="words the quote contains")]
    = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> OtherPage:
    """The mentions no theme holds, confident and recent first: nothing extracted is hidden."""
    return other_page(session=session, workspace_id=workspace.id, kind=kind, category=category,
                      q=q, limit=limit, cursor=cursor)
