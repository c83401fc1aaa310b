"""Reading and editing clusters; rebuilds are queued as jobs."""

from __future__ import annotations

from sqlmodel import Session, select

from app.errors import NotFound
from app.services import rollups
from app.services.jobs import enqueue
from models import Cluster, Job
from models.base import utcnow


def get_cluster(*, session: Session, workspace_id: int, cluster_id: int) -> Cluster:
    cluster = session.get(Cluster, cluster_id)
    if cluster is None or cluster.workspace_id != workspace_id:
        raise NotFound(f"cluster {cluster_id} not found", detail={"cluster_id": cluster_id})
    return cluster


def rename(*, session: Session, cluster: Cluster, label: str) -> Cluster:
    """A user's label is kept across rebuilds."""
    cluster.label, cluster.label_is_custom, cluster.updated_at = label.strip(), True, utcnow()
    session.add(cluster)
    rollups.touch(session=session, workspace_id=cluster.workspace_id)
    session.commit()
    return cluster


def request_rebuild(*, session: Session, workspace_id: int) -> Job:
    """Queues a re-cluster that fits every kind afresh (no warm start: a person asked for it),
    or makes the one already waiting such a refit."""
    job = enqueue(session=session, workspace_id=workspace_id, kind="rebuild", refit=True)
    session.commit()
    return job


def list_clusters(*, session: Session, workspace_id: int, kind: str | None) -> list[Cluster]:
    query = select(Cluster).where(Cluster.workspace_id == workspace_id,
                                  Cluster.active.is_(True))
    if kind:
        query = query.where(Cluster.kind == kind)
    return list(session.exec(query.order_by(Cluster.size.desc(), Cluster.id)))  # type: ignore[union-attr]
