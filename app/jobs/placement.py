"""Between rebuilds, new mentions join the nearest existing cluster at once."""

from __future__ import annotations

from collections import defaultdict

from sqlmodel import Session, func, select

from app.services.feed import quote_lead
from models import Cluster, ClusterMember, Job, Mention
from models.base import utcnow
from pipelines.blas import one_blas_thread
from pipelines.cluster import ClusterConfig, assign_to_centroids
from pipelines.vectors import unpack_many


def place_new_mentions(*, session: Session, workspace_id: int, mentions: list[Mention]) -> int:
    """Adds each mention to its kind's nearest cluster when similar enough; returns how many."""
    by_kind: dict[str, list[Mention]] = defaultdict(list)
    for m in mentions:
        by_kind[m.kind].append(m)
    placed = 0
    for kind, rows in by_kind.items():
        clusters = list(session.exec(select(Cluster).where(
            Cluster.workspace_id == workspace_id, Cluster.kind == kind,
            Cluster.active.is_(True)).order_by(Cluster.id)))
        if not clusters:
            continue
        centroids = unpack_many([c.centroid for c in clusters])
        X = unpack_many([m.embedding for m in rows])
        # a call's few mentions against the themes: a second BLAS thread would only spin
        # beside the product, taking a core from the next call's models (pipelines/blas.py)
        with one_blas_thread:
            labels, sims = assign_to_centroids(X, centroids, ClusterConfig().assign_threshold)
        for m, label, sim in zip(rows, labels, sims, strict=True):
            if label < 0:
                continue
            cluster = clusters[int(label)]
            session.add(ClusterMember(mention_id=m.id, cluster_id=cluster.id,
                                      workspace_id=workspace_id, similarity=float(sim),
                                      lead=quote_lead(float(sim), m.confidence, kind)))
            cluster.size += 1
            cluster.updated_at = utcnow()
            session.add(cluster)
            placed += 1
    session.flush()
    return placed


def unclustered_count(*, session: Session, workspace_id: int,
                      kind: str | None = None) -> tuple[int, int]:
    """(mentions no rebuild has seen yet and no theme took, all mentions), optionally of a kind.

    Mentions a rebuild left in a category's other group are not counted: they were looked at,
    and counting them would queue a rebuild after every call in a workspace with a big other
    group.
    """
    last = session.exec(select(func.max(Job.started_at)).where(
        Job.workspace_id == workspace_id, Job.kind == "rebuild", Job.status == "done")).one()
    total_q = select(func.count(Mention.id)).where(Mention.workspace_id == workspace_id)
    loose_q = (select(func.count(Mention.id))
               .join(ClusterMember, ClusterMember.mention_id == Mention.id, isouter=True)
               .where(Mention.workspace_id == workspace_id,
                      ClusterMember.mention_id.is_(None)))  # type: ignore[union-attr]
    if last is not None:
        loose_q = loose_q.where(Mention.created_at >= last)
    if kind is not None:
        total_q = total_q.where(Mention.kind == kind)
        loose_q = loose_q.where(Mention.kind == kind)
    return int(session.exec(loose_q).one()), int(session.exec(total_q).one())
