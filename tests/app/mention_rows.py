"""Workspaces of mentions with chosen vectors, written straight to the database."""

from __future__ import annotations

import numpy as np
from sqlalchemy import insert
from sqlmodel import Session, select

from app.db import session_scope
from app.jobs.rebuild import rebuild_kind
from models import Call, Cluster, ClusterMember, Mention, Utterance
from pipelines.vectors import pack


def topic_vectors(n_topics: int, per: int, dims: int = 32, seed: int = 0, spread: float = 0.25):
    """Unit rows around n_topics random centres (cosine ~0.95 to their centre), and topics."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_topics, dims))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    topic = np.repeat(np.arange(n_topics), per)
    X = centres[topic] + rng.normal(scale=spread / np.sqrt(dims), size=(len(topic), dims))
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32), topic


def add_mentions(session: Session, workspace_id: int, X: np.ndarray, *, calls: int = 12,
                 kind: str = "objection", category: str | None = None,
                 outcome: str = "open", legacy: bool = False, tag: str = "") -> list[int]:
    """One mention per row of X over `calls` new calls; legacy: float32 blobs as stored before.
    Returns the mention ids in row order."""
    call_ids = []
    for c in range(calls):
        call = Call(workspace_id=workspace_id, external_id=f"{tag}{kind}-{outcome}-{c}",
                    content_hash="-", raw_payload="", status="processed", outcome=outcome)
        session.add(call)
        session.flush()
        utt = Utterance(workspace_id=workspace_id, call_id=call.id, idx=0, speaker="Jo",
                        text="-")
        session.add(utt)
        session.flush()
        call_ids.append((call.id, utt.id))
    ids = []
    for i, x in enumerate(X):
        call_id, utt_id = call_ids[i % calls]
        text = f"quote {tag}{i}"
        blob = np.asarray(x, dtype=np.float32).tobytes() if legacy else pack(x)
        ids.append(session.execute(insert(Mention).values(
            workspace_id=workspace_id, call_id=call_id, utterance_id=utt_id, kind=kind,
            category=category, text=text, start_char=0, end_char=len(text), speaker="Jo",
            key_phrases=[], embedding=blob).returning(Mention.id)).scalar_one())
    session.flush()
    return ids


def rebuild_objections(engine, workspace_id: int, refit: bool | None = None) -> dict[int, set[int]]:
    """Rebuilds the objections; returns active cluster id -> member mention ids."""
    with session_scope(engine) as session:
        rebuild_kind(session=session, workspace_id=workspace_id, kind="objection", job_id=None,
                     refit=refit)
    with Session(engine) as session:
        out: dict[int, set[int]] = {}
        for mention_id, cluster_id in session.exec(
                select(ClusterMember.mention_id, ClusterMember.cluster_id)
                .join(Cluster, Cluster.id == ClusterMember.cluster_id)
                .where(Cluster.active.is_(True))):
            out.setdefault(cluster_id, set()).add(mention_id)
        return out
