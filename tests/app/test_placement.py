"""New mentions join their kind's nearest theme as their call is processed."""

from __future__ import annotations

import numpy as np
from sqlmodel import Session, select
from threadpoolctl import threadpool_info, threadpool_limits

from app.db import session_scope
from app.jobs import placement
from app.services.workspaces import get_or_create_workspace
from models import Cluster, ClusterMember, Mention
from pipelines.vectors import pack
from tests.app.mention_rows import add_mentions, topic_vectors


def _blas_threads() -> set[int]:
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


def test_new_mentions_join_the_nearest_theme_with_one_blas_thread(engine, monkeypatch):
    X, topic = topic_vectors(2, 3)
    centres = np.stack([X[topic == t].mean(axis=0) for t in (0, 1)])
    threads_seen: list[set[int]] = []
    assign = placement.assign_to_centroids

    def recording(*args, **kwargs):
        threads_seen.append(_blas_threads())
        return assign(*args, **kwargs)

    monkeypatch.setattr(placement, "assign_to_centroids", recording)
    # two threads to start from, so the check can fail on a one-core machine too
    with threadpool_limits(2, user_api="blas"), session_scope(engine) as session:
        ws = get_or_create_workspace(session=session, name="acme")
        themes = [Cluster(workspace_id=ws.id, kind="objection", label=f"theme {t}",
                          centroid=pack(centres[t])) for t in (0, 1)]
        session.add_all(themes)
        ids = add_mentions(session, ws.id, X, calls=1)
        mentions = [session.get(Mention, i) for i in ids]
        placed = placement.place_new_mentions(session=session, workspace_id=ws.id,
                                              mentions=mentions)
        theme_ids = [c.id for c in themes]
    assert placed == len(X)
    assert threads_seen == [{1}]
    with Session(engine) as session:
        rows = session.exec(select(ClusterMember.mention_id, ClusterMember.cluster_id)).all()
    joined = dict(rows)
    assert [joined[i] for i in ids] == [theme_ids[t] for t in topic]
