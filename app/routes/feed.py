from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from app.deps import SessionDep, WorkspaceDep
from app.schemas import FeedOut
from app.services.feed import FeedFilters
from app.services.feed_view import feed_page
from models.base import aware

router = APIRouter(tags=["feed"])

Sort = Literal["score", "mentions", "calls", "trend"]


@router.get("/feed/{kind}", response_model=FeedOut)
def read_feed(
    kind: Literal["objections", "questions", "pains"],
    session: SessionDep, workspace: WorkspaceDep,
    since: Annotated[datetime | None, Query(description="calls on or after (ISO-8601)")] = None,
    until: Annotated[datetime | None, Query(description="calls on or before (ISO-8601)")] = None,
    category: str | None = None, deal_stage: str | None = None,
    outcome: Literal["won", "lost", "open"] | None = None, account: str | None = None,
    tags: Annotated[list[str] | None, Query(description="calls carrying every tag")] = None,
    roles: Annotated[Literal["all", "confident"], Query(
        description="confident: leave out calls whose speaker roles are unsure")] = "all",
    sort: Sort = "score",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    quotes: Annotated[int, Query(ge=0, le=50, description="quotes per cluster")] = 5,
    cursor: str | None = None,
) -> FeedOut:
    """Clusters ranked by score (see `pipelines/rank.py`: volume, distinct calls and accounts,
    recency, 30-day trend and lost-deal lift), each with a label, its category, counts, score
    components and its most representative exact quotes. Filters narrow the mentions counted."""
    filters = FeedFilters(since=aware(since), until=aware(until), category=category,
                          deal_stage=deal_stage, outcome=outcome, account=account,
                          tags=tuple(tags or ()), confident_roles=roles == "confident")
    return feed_page(session=session, workspace_id=workspace.id, kind=kind, filters=filters,
                     sort=sort, limit=limit, quotes=quotes, cursor=cursor)
