from typing import Annotated, Literal

from fastapi import APIRouter, Query

from app.deps import RowId, SessionDep, WorkspaceDep
from app.schemas import ClusterPatch, JobRef
from app.services import clusters as service
from app.services.cluster_view import cluster_detail, cluster_mentions_page

router = APIRouter(tags=["clusters"])


@router.post("/clusters/rebuild", response_model=JobRef, status_code=202)
def rebuild(session: SessionDep, workspace: WorkspaceDep) -> JobRef:
    """Re-cluster the workspace's mentions as a background job; cluster ids are kept stable."""
    job = service.request_rebuild(session=session, workspace_id=workspace.id)
    return JobRef(job_id=job.id)


@router.get("/clusters")
def list_clusters(session: SessionDep, workspace: WorkspaceDep,
                  kind: Literal["objection", "question", "pain"] | None = None) -> dict:
    """Active clusters, biggest first."""
    rows = service.list_clusters(session=session, workspace_id=workspace.id, kind=kind)
    return {"items": [{"id": c.id, "kind": c.kind, "label": c.label, "category": c.category,
                       "size": c.size, "keywords": c.keywords} for c in rows]}


@router.get("/clusters/{cluster_id}")
def read_cluster(cluster_id: RowId, session: SessionDep, workspace: WorkspaceDep) -> dict:
    """A cluster with its label, keywords, category and phrasing variants with counts."""
    cluster = service.get_cluster(session=session, workspace_id=workspace.id,
                                  cluster_id=cluster_id)
    return cluster_detail(session=session, cluster=cluster)


@router.patch("/clusters/{cluster_id}")
def patch_cluster(cluster_id: RowId, patch: ClusterPatch, session: SessionDep,
                  workspace: WorkspaceDep) -> dict:
    """Set a cluster's label; a user's label survives every rebuild."""
    cluster = service.get_cluster(session=session, workspace_id=workspace.id,
                                  cluster_id=cluster_id)
    cluster = service.rename(session=session, cluster=cluster, label=patch.label)
    return {"id": cluster.id, "label": cluster.label, "label_is_custom": True}


@router.get("/clusters/{cluster_id}/mentions")
def read_cluster_mentions(
    cluster_id: RowId, session: SessionDep, workspace: WorkspaceDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50, cursor: str | None = None,
) -> dict:
    """Every member of a cluster, most representative first, with pagination."""
    cluster = service.get_cluster(session=session, workspace_id=workspace.id,
                                  cluster_id=cluster_id)
    return cluster_mentions_page(session=session, cluster=cluster, limit=limit, cursor=cursor)
