"""Downloads from the pages (signed in by the session cookie), the same files as the API's."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.deps import RowId, SessionDep
from app.routes.export import CSV_TYPE, MARKDOWN_TYPE, attachment, stamp
from app.services import clusters as clusters_service
from app.services.export import brief_markdown, clusters_csv, quotes_csv, slug
from app.web.deps import PageWorkspaceDep
from app.web.filters import FeedQuery
from app.web.routing import PageRoute
from models.base import MAX_ID, utcnow

router = APIRouter(route_class=PageRoute, include_in_schema=False, prefix="/export")


@router.get("/clusters.csv")
def clusters_download(request: Request, session: SessionDep,
                      workspace: PageWorkspaceDep) -> Response:
    query = FeedQuery.from_params(request.query_params)
    content = clusters_csv(session=session, workspace_id=workspace.id, kind=query.mention_kind,
                           filters=query.filters(), sort=query.sort, now=utcnow())
    return attachment(content, f"verbatim-{query.kind}-{stamp()}.csv", CSV_TYPE)


@router.get("/quotes.csv")
def quotes_download(request: Request, session: SessionDep,
                    workspace: PageWorkspaceDep) -> Response:
    """The feed's quotes, or one cluster's (`?cluster=ID`)."""
    raw = request.query_params.get("cluster", "")
    if raw.isdigit():
        cluster = clusters_service.get_cluster(session=session, workspace_id=workspace.id,
                                               cluster_id=int(raw) if int(raw) <= MAX_ID else 0)
        content = quotes_csv(session=session, workspace_id=workspace.id, kinds=[cluster.kind],
                             filters=FeedQuery().filters(), cluster_id=cluster.id)
        return attachment(content, f"verbatim-quotes-cluster-{cluster.id}-{stamp()}.csv",
                          CSV_TYPE)
    query = FeedQuery.from_params(request.query_params)
    content = quotes_csv(session=session, workspace_id=workspace.id,
                         kinds=[query.mention_kind], filters=query.filters())
    return attachment(content, f"verbatim-quotes-{query.kind}-{stamp()}.csv", CSV_TYPE)


@router.get("/clusters/{cluster_id}/brief.md")
def brief_download(cluster_id: RowId, session: SessionDep,
                   workspace: PageWorkspaceDep) -> Response:
    cluster = clusters_service.get_cluster(session=session, workspace_id=workspace.id,
                                           cluster_id=cluster_id)
    content = brief_markdown(session=session, cluster=cluster, now=utcnow())
    return attachment(content, f"brief-{cluster.id}-{slug(cluster.label)}.md", MARKDOWN_TYPE)
