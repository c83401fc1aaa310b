from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from app.deps import RowId, SessionDep, WorkspaceDep
from app.services import clusters as clusters_service
from app.services.export import brief_markdown, clusters_csv, quotes_csv, slug
from app.services.feed import FEED_KINDS, FeedFilters
from models.base import MAX_ID, aware, utcnow
from pipelines.types import KINDS

router = APIRouter(tags=["export"])

CSV_TYPE = "text/csv; charset=utf-8"
MARKDOWN_TYPE = "text/markdown; charset=utf-8"


def attachment(content: str, filename: str, media_type: str) -> Response:
    """A download: the browser saves it under `filename` instead of showing it."""
    return Response(content, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store"})


def feed_filters(
    since: Annotated[datetime | None, Query(description="calls on or after (ISO-8601)")] = None,
    until: Annotated[datetime | None, Query(description="calls on or before (ISO-8601)")] = None,
    category: str | None = None, deal_stage: str | None = None,
    outcome: Literal["won", "lost", "open"] | None = None, account: str | None = None,
    tags: Annotated[list[str] | None, Query(description="calls carrying every tag")] = None,
    roles: Annotated[Literal["all", "confident"], Query(
        description="confident: leave out calls whose speaker roles are unsure")] = "all",
) -> FeedFilters:
    """The feed's filters, read from the query string."""
    return FeedFilters(since=aware(since), until=aware(until), category=category,
                       deal_stage=deal_stage, outcome=outcome, account=account,
                       tags=tuple(tags or ()), confident_roles=roles == "confident")


FiltersDep = Annotated[FeedFilters, Depends(feed_filters)]


def stamp() -> str:
    return date.today().isoformat()


@router.get("/export/clusters.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
def export_clusters(
    session: SessionDep, workspace: WorkspaceDep, filters: FiltersDep,
    kind: Literal["objections", "questions", "pains"] = "objections",
    sort: Literal["score", "mentions", "calls", "trend"] = "score",
) -> Response:
    """The ranked feed of one kind as CSV: one cluster a line with its counts, score
    components and top quote. Takes the feed's filters."""
    content = clusters_csv(session=session, workspace_id=workspace.id, kind=FEED_KINDS[kind],
                           filters=filters, sort=sort, now=utcnow())
    return attachment(content, f"verbatim-{kind}-{stamp()}.csv", CSV_TYPE)


@router.get("/export/quotes.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
def export_quotes(
    session: SessionDep, workspace: WorkspaceDep, filters: FiltersDep,
    kind: Literal["objection", "question", "pain"] | None = None,
    cluster_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    """Every clustered quote as CSV, with its speaker, account, call, date and timestamp.
    Narrow it to a mention kind, one cluster, or the feed's filters."""
    if cluster_id is not None:
        clusters_service.get_cluster(session=session, workspace_id=workspace.id,
                                     cluster_id=cluster_id)
    content = quotes_csv(session=session, workspace_id=workspace.id,
                         kinds=[kind] if kind else list(KINDS), filters=filters,
                         cluster_id=cluster_id)
    name = f"cluster-{cluster_id}" if cluster_id is not None else (kind or "all")
    return attachment(content, f"verbatim-quotes-{name}-{stamp()}.csv", CSV_TYPE)


@router.get("/clusters/{cluster_id}/brief.md", response_class=Response,
            responses={200: {"content": {"text/markdown": {}}}})
def cluster_brief(cluster_id: RowId, session: SessionDep, workspace: WorkspaceDep) -> Response:
    """A Markdown content brief for one cluster: its label, why it matters in numbers
    (mentions, calls, accounts, lost-deal share, trend) and the ten best verbatim quotes
    with their sources."""
    cluster = clusters_service.get_cluster(session=session, workspace_id=workspace.id,
                                           cluster_id=cluster_id)
    content = brief_markdown(session=session, cluster=cluster, now=utcnow())
    return attachment(content, f"brief-{cluster.id}-{slug(cluster.label)}.md", MARKDOWN_TYPE)
