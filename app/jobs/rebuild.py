"""Re-cluster a workspace, kind by kind, keeping cluster ids and user labels stable.

Themes are found within categories (pipelines/themes.py); a mention no theme takes has no
ClusterMember row and shows in its category's other group.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import delete, insert, update
from sqlmodel import Session, func, select

from app.jobs.warm_start import last_fit, needs_refit
from app.nlp import Models
from app.services import rollups
from app.services.feed import quote_lead
from models import Cluster, ClusterEvent, ClusterMember, Job, Mention
from models.base import utcnow
from pipelines.cluster import ClusterResult
from pipelines.cluster_identity import Matching, PrevCluster, match_clusters
from pipelines.label import cluster_label, ctfidf_keywords
from pipelines.themes import extend_themes, find_themes
from pipelines.types import KINDS
from pipelines.vectors import is_compact, pack, unpack, unpack_many

# rows per bulk statement when writing memberships and converted vectors
WRITE_BATCH = 5_000


def rebuild_workspace(*, session: Session, job: Job, models: Models) -> None:
    """Each kind is rebuilt and committed on its own (with its feed summaries), so progress can
    be shown."""
    for step, kind in enumerate(KINDS):
        rebuild_kind(session=session, workspace_id=job.workspace_id, kind=kind, job_id=job.id,
                     nlp=models.nlp, refit=True if job.refit else None)
        rollups.rebuild_kind(session=session, workspace_id=job.workspace_id, kind=kind)
        job.progress = (step + 1) / len(KINDS)
        session.add(job)
        session.commit()
    rollups.rebuild_tags(session=session, workspace_id=job.workspace_id)
    session.commit()
    # the search index is built here, in the worker, rather than by the first search after
    models.vectors.refresh(session=session, workspace_id=job.workspace_id)


def rebuild_kind(*, session: Session, workspace_id: int, kind: str, job_id: int | None,
                 nlp: Any = None, refit: bool | None = None) -> None:
    """Re-cluster one kind; nlp (spaCy) lets labels prefer clauses that read alone.

    refit None: refit when app/jobs/warm_start.py says so, else grow the last clustering with
    the mentions that arrived since; True or False forces either.
    """
    started = utcnow()
    mentions, X, old_format = _load_kind(session=session, workspace_id=workspace_id, kind=kind)
    previous = _previous(session=session, workspace_id=workspace_id, kind=kind)
    if not mentions:
        _retire(session, [c for c, _ in previous.values()], job_id)
        return
    if refit is None:
        refit = needs_refit(session=session, workspace_id=workspace_id, kind=kind,
                            arrivals=[m.created_at for m in mentions],
                            has_clusters=bool(previous))
    compacted = _compacted(mentions, X, old_format)
    # everything slow happens before the first write, to keep the write transaction short;
    # X is made unit in place (a second copy would cost 150 MB at 100k), so members' similarities
    # below are cosines
    if refit:
        result, matching = _fit(mentions, X, previous, kind)
    else:
        result, matching = _warm_start(mentions, X, previous, since=last_fit(
            session=session, workspace_id=workspace_id, kind=kind))
    members: dict[int, list[int]] = defaultdict(list)
    for i, label in enumerate(result.labels):
        if label >= 0:
            members[int(label)].append(i)
    keywords = ctfidf_keywords({label: [mentions[i].text for i in idx]
                                for label, idx in members.items()})
    for start in range(0, len(compacted), WRITE_BATCH):
        session.execute(update(Mention), compacted[start:start + WRITE_BATCH])
    _clear_members(session=session, workspace_id=workspace_id, kind=kind)
    kept: dict[int, int] = {}  # new label -> cluster id
    rows: list[dict] = []
    for label, idx in sorted(members.items()):
        old_id = matching.ids.get(label)
        cluster = previous[int(old_id)][0] if old_id is not None else Cluster(
            workspace_id=workspace_id, kind=kind, label="")
        _fill(cluster, [mentions[i] for i in idx], X[idx], result.centroids[label],
              keywords.get(label, []), nlp)
        session.add(cluster)
        session.flush()
        kept[label] = cluster.id
        if refit:  # stamped with the time reading began: what arrived since is new to this fit
            session.add(ClusterEvent(workspace_id=workspace_id, job_id=job_id,
                                     cluster_id=cluster.id, created_at=started,
                                     event="kept" if old_id is not None else "created",
                                     related=[]))
        sims = X[idx] @ result.centroids[label]
        rows.extend({"mention_id": mentions[i].id, "cluster_id": cluster.id,
                     "workspace_id": workspace_id, "similarity": float(sim),
                     "lead": quote_lead(float(sim), mentions[i].confidence, kind)}
                    for i, sim in zip(idx, sims, strict=True))
    _insert_members(session, rows)
    _record_history(session, matching, workspace_id, job_id, kept)
    alive = set(kept.values())
    _retire(session, [c for c, _ in previous.values() if c.id not in alive], job_id)
    session.flush()


def _fit(mentions: list[_Row], X: np.ndarray, previous: dict[int, tuple[Cluster, list[str]]],
         kind: str) -> tuple[ClusterResult, Matching]:
    """Themes found afresh, and which of them keep an old cluster's id."""
    # only objection confidences are calibrated probabilities
    confidences = [m.confidence for m in mentions] if kind == "objection" else None
    result = find_themes(X, [m.category for m in mentions], [m.call_id for m in mentions],
                         confidences=confidences, copy=False)
    members: dict[int, set[str]] = defaultdict(set)
    for i in np.flatnonzero(result.labels >= 0):
        members[int(result.labels[i])].add(str(mentions[i].id))
    matching = match_clusters(
        [PrevCluster(id=str(c.id), members=frozenset(ids), centroid=unpack(c.centroid))
         for c, ids in previous.values()], dict(members), result.centroids)
    return result, matching


def _warm_start(mentions: list[_Row], X: np.ndarray,
                previous: dict[int, tuple[Cluster, list[str]]],
                since: datetime | None) -> tuple[ClusterResult, Matching]:
    """The last clustering grown by the mentions that arrived since `since` (its fit) and no
    cluster holds yet; theme i is the i-th previous cluster, whose id it keeps."""
    clusters = [c for c, _ in previous.values()]
    theme_of = {int(m): i for i, (_, ids) in enumerate(previous.values()) for m in ids}
    labels = np.array([theme_of.get(m.id, -1) for m in mentions], dtype=np.int64)
    new = np.array([m.id not in theme_of and (since is None or m.created_at >= since)
                    for m in mentions], dtype=bool)
    result = extend_themes(X, labels, new, unpack_many([c.centroid for c in clusters]),
                           [m.call_id for m in mentions], copy=False)
    return result, Matching(ids={i: str(c.id) for i, c in enumerate(clusters)})


class _Row(NamedTuple):
    """What clustering and labelling read of a mention (its vector is a row of X)."""

    id: int
    category: str | None
    call_id: int
    text: str
    confidence: float
    created_at: datetime


def _load_kind(*, session: Session, workspace_id: int,
               kind: str) -> tuple[list[_Row], np.ndarray, list[int]]:
    """The kind's mentions, their vectors as rows of one array, and which rows are float32.

    Streamed in batches into one array sized by a count first, never kept as blobs or whole
    Mention rows: at 100k mentions those held more memory than the clustering itself.
    """
    where = (Mention.workspace_id == workspace_id, Mention.kind == kind,
             Mention.embedding.is_not(None))
    expected = session.exec(select(func.count(Mention.id)).where(*where)).one()
    query = (select(Mention.id, Mention.category, Mention.call_id, Mention.text,
                    Mention.confidence, Mention.created_at, Mention.embedding)
             .where(*where).order_by(Mention.id).execution_options(yield_per=WRITE_BATCH))
    rows: list[_Row] = []
    X = np.zeros((0, 0), dtype=np.float32)
    old_format: list[int] = []
    for part in session.exec(query).partitions():
        block = unpack_many([r.embedding for r in part])
        if len(rows) + len(block) > len(X):  # the first block, or mentions added since the count
            X = _grown(X, len(rows), max(expected, len(rows) + len(block)), block.shape[1])
        X[len(rows):len(rows) + len(block)] = block
        for r in part:
            if not is_compact(r.embedding):
                old_format.append(len(rows))
            rows.append(_Row(r.id, r.category, r.call_id, r.text, r.confidence, r.created_at))
    return rows, X[:len(rows)], old_format


def _grown(X: np.ndarray, kept: int, n: int, dims: int) -> np.ndarray:
    """An array of n rows of dims values starting with X's first kept rows."""
    out = np.empty((n, dims), dtype=np.float32)
    if kept:
        out[:kept] = X[:kept]  # a block of other dims fails here, as it should
    return out


def _compacted(mentions: list[_Row], X: np.ndarray, rows: list[int]) -> list[dict]:
    """Update rows rewriting embeddings still stored as float32 in the compact format (once per
    mention); packed before X is made unit, so the stored vector stays the one embedded."""
    return [{"id": mentions[i].id, "embedding": pack(X[i])} for i in rows]


def _insert_members(session: Session, rows: list[dict]) -> None:
    """Memberships of the mentions that still exist. A call re-processed while the rebuild ran
    has deleted its old mentions (its job places the new ones); on PostgreSQL the survivors are
    locked (FOR KEY SHARE) until the rebuild commits, so such a delete waits for it instead of
    breaking the rebuild's foreign keys."""
    locking = session.get_bind().dialect.name == "postgresql"
    for start in range(0, len(rows), WRITE_BATCH):
        batch = rows[start:start + WRITE_BATCH]
        alive = select(Mention.id).where(Mention.id.in_([r["mention_id"] for r in batch]))
        if locking:
            alive = alive.with_for_update(key_share=True)
        kept = set(session.exec(alive))
        batch = [r for r in batch if r["mention_id"] in kept]
        if batch:
            session.execute(insert(ClusterMember), batch)


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


def _clear_members(*, session: Session, workspace_id: int, kind: str) -> None:
    """Every membership of the kind's mentions, in one statement."""
    of_kind = select(Mention.id).where(Mention.workspace_id == workspace_id, Mention.kind == kind)
    session.execute(delete(ClusterMember).where(ClusterMember.workspace_id == workspace_id,
                                                ClusterMember.mention_id.in_(of_kind)))
    session.flush()


def _fill(cluster: Cluster, rows: list[_Row], X: np.ndarray, centroid: np.ndarray,
          keywords: list[str], nlp: Any = None) -> None:
    cluster.centroid = np.asarray(centroid, dtype=np.float32).tobytes()
    cluster.size, cluster.keywords = len(rows), list(keywords)
    cluster.active, cluster.updated_at = True, utcnow()
    categories = Counter(m.category for m in rows if m.category)
    cluster.category = categories.most_common(1)[0][0] if categories else None
    if not cluster.label_is_custom:
        cluster.label = cluster_label([m.text for m in rows], X, centroid, keywords,
                                      [m.confidence for m in rows], nlp)


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
