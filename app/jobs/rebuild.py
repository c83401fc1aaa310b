"""Re-cluster a workspace, kind by kind, keeping cluster ids and user labels stable.

Themes are found within categories (pipelines/themes.py); a mention no theme takes has no
ClusterMember row and shows in its category's other group.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
from sqlalchemy import delete
from sqlmodel import Session, select

from app.jobs.placement import vector
from app.nlp import Models
from app.services import rollups
from models import Cluster, ClusterEvent, ClusterMember, Job, Mention
from models.base import utcnow
from pipelines.cluster_identity import Matching, PrevCluster, match_clusters
from pipelines.label import cluster_label, ctfidf_keywords
from pipelines.themes import find_themes
from pipelines.types import KINDS


def rebuild_workspace(*, session: Session, job: Job, models: Models) -> None:
    """Each kind is rebuilt and committed on its own (with its feed summaries), so progress can
    be shown."""
    for step, kind in enumerate(KINDS):
        rebuild_kind(session=session, workspace_id=job.workspace_id, kind=kind, job_id=job.id)
        rollups.rebuild_kind(session=session, workspace_id=job.workspace_id, kind=kind)
        job.progress = (step + 1) / len(KINDS)
        session.add(job)
        session.commit()
    rollups.rebuild_tags(session=session, workspace_id=job.workspace_id)
    session.commit()


def rebuild_kind(*, session: Session, workspace_id: int, kind: str, job_id: int | None) -> None:
    mentions = list(session.exec(select(Mention).where(
        Mention.workspace_id == workspace_id, Mention.kind == kind).order_by(Mention.id)))
    previous = _previous(session=session, workspace_id=workspace_id, kind=kind)
    if not mentions:
        _retire(session, [c for c, _ in previous.values()], job_id)
        return
    # everything slow happens before the first write, to keep the write transaction short
    X = np.vstack([vector(m.embedding) for m in mentions])
    result = find_themes(X, [m.category for m in mentions], [m.call_id for m in mentions])
    members: dict[int, list[int]] = defaultdict(list)
    for i, label in enumerate(result.labels):
        if label >= 0:
            members[int(label)].append(i)
    matching = match_clusters(
        [PrevCluster(id=str(c.id), members=frozenset(ids), centroid=vector(c.centroid))
         for c, ids in previous.values()],
        {label: {str(mentions[i].id) for i in idx} for label, idx in members.items()},
        result.centroids,
    )
    keywords = ctfidf_keywords({label: [mentions[i].text for i in idx]
                                for label, idx in members.items()})
    _clear_members(session=session, mention_ids=[m.id for m in mentions])
    kept: dict[int, int] = {}  # new label -> cluster id
    for label, idx in sorted(members.items()):
        old_id = matching.ids.get(label)
        cluster = previous[int(old_id)][0] if old_id is not None else Cluster(
            workspace_id=workspace_id, kind=kind, label="")
        _fill(cluster, [mentions[i] for i in idx], X[idx], result.centroids[label],
              keywords.get(label, []))
        session.add(cluster)
        session.flush()
        kept[label] = cluster.id
        event = "kept" if old_id is not None else "created"
        session.add(ClusterEvent(workspace_id=workspace_id, job_id=job_id, cluster_id=cluster.id,
                                 event=event, related=[]))
        for i in idx:
            sim = float(X[i] @ result.centroids[label])
            session.add(ClusterMember(mention_id=mentions[i].id, cluster_id=cluster.id,
                                      workspace_id=workspace_id, similarity=sim))
    _record_history(session, matching, workspace_id, job_id, kept)
    alive = set(kept.values())
    _retire(session, [c for c, _ in previous.values() if c.id not in alive], job_id)
    session.flush()


def _previous(*, session: Session, workspace_id: int,
              kind: str) -> dict[int, tuple[Cluster, list[str]]]:
    clusters = list(session.exec(select(Cluster).where(
        Cluster.workspace_id == workspace_id, Cluster.kind == kind, Cluster.active.is_(True))))
    out: dict[int, tuple[Cluster, list[str]]] = {c.id: (c, []) for c in clusters}
    if out:
        rows = session.exec(select(ClusterMember.cluster_id, ClusterMember.mention_id)
                            .where(ClusterMember.cluster_id.in_(list(out))))
        for cluster_id, mention_id in rows:
            out[cluster_id][1].append(str(mention_id))
    return out


def _clear_members(*, session: Session, mention_ids: list[int]) -> None:
    for start in range(0, len(mention_ids), 500):
        chunk = mention_ids[start:start + 500]
        session.execute(delete(ClusterMember).where(ClusterMember.mention_id.in_(chunk)))
    session.flush()


def _fill(cluster: Cluster, rows: list[Mention], X: np.ndarray, centroid: np.ndarray,
          keywords: list[str]) -> None:
    cluster.centroid = np.asarray(centroid, dtype=np.float32).tobytes()
    cluster.size, cluster.keywords = len(rows), list(keywords)
    cluster.active, cluster.updated_at = True, utcnow()
    categories = Counter(m.category for m in rows if m.category)
    cluster.category = categories.most_common(1)[0][0] if categories else None
    if not cluster.label_is_custom:
        cluster.label = cluster_label([m.text for m in rows], X, centroid, keywords)


def _record_history(session: Session, matching: Matching, workspace_id: int,
                    job_id: int | None, kept: dict[int, int]) -> None:
    """Splits are recorded on the old cluster, merges on the cluster that absorbed others."""
    for old_id, new_labels in matching.splits.items():
        session.add(ClusterEvent(workspace_id=workspace_id, job_id=job_id,
                                 cluster_id=int(old_id), event="split",
                                 related=[kept[n] for n in new_labels if n in kept]))
    for new_label, old_ids in matching.merges.items():
        if new_label in kept:
            session.add(ClusterEvent(workspace_id=workspace_id, job_id=job_id,
                                     cluster_id=kept[new_label], event="merged",
                                     related=[int(x) for x in old_ids]))


def _retire(session: Session, clusters: list[Cluster], job_id: int | None) -> None:
    for c in clusters:
        c.active, c.size, c.updated_at = False, 0, utcnow()
        session.add(c)
        session.add(ClusterEvent(workspace_id=c.workspace_id, job_id=job_id, cluster_id=c.id,
                                 event="retired", related=[]))
