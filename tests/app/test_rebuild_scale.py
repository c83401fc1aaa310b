"""A rebuild above the fit-sample threshold (set small here) places every mention, keeps cluster
ids across rebuilds and rewrites old float32 embeddings in the compact format."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

import app.jobs.rebuild as rebuild_module
from app.db import session_scope
from app.services.workspaces import get_or_create_workspace
from models import Cluster, Mention
from pipelines.cluster import ClusterConfig
from pipelines.themes import find_themes
from pipelines.vectors import is_compact
from tests.app.mention_rows import add_mentions, rebuild_objections, topic_vectors

TOPICS, PER_TOPIC = 6, 40
SAMPLED = ClusterConfig(reducer="pca", fit_sample=60)  # 240 rows: a quarter are fitted


@pytest.fixture
def sampled(monkeypatch):
    """Rebuilds fit on a sample of 60 rows."""
    monkeypatch.setattr(rebuild_module, "find_themes",
                        lambda X, categories, calls, **kw: find_themes(X, categories, calls,
                                                                        SAMPLED, **kw))




def test_every_mention_is_placed_and_ids_survive_growth(engine, sampled):
    X, topic = topic_vectors(TOPICS, PER_TOPIC, seed=3)
    with session_scope(engine) as session:
        workspace_id = get_or_create_workspace(session=session, name="acme").id
        ids = add_mentions(session, workspace_id, X, calls=12, legacy=True)
    first = rebuild_objections(engine, workspace_id)
    assert len(first) == TOPICS
    assert sorted(len(m) for m in first.values()) == [PER_TOPIC] * TOPICS
    by_topic = {t: {i for i, tt in zip(ids, topic, strict=True) if tt == t}
                for t in range(TOPICS)}
    assert sorted(map(sorted, first.values())) == sorted(map(sorted, by_topic.values()))
    with Session(engine) as session:
        blobs = session.exec(select(Mention.embedding)).all()
        assert blobs and all(is_compact(b) for b in blobs)

    # 10% more mentions of the same topics: the same ids, each grown by its new members
    more, _ = topic_vectors(TOPICS, 4, seed=3, spread=0.3)
    with session_scope(engine) as session:
        new_ids = add_mentions(session, workspace_id, more, calls=6, tag="b")
    second = rebuild_objections(engine, workspace_id)
    assert set(second) == set(first)
    for cluster_id, members in first.items():
        assert members < second[cluster_id]
    assert set().union(*second.values()) == set(ids) | set(new_ids)
    with Session(engine) as session:
        sizes = session.exec(select(func.sum(Cluster.size)).where(Cluster.active.is_(True)))
        assert sizes.one() == len(ids) + len(new_ids)


def test_mentions_deleted_while_a_rebuild_runs_are_left_out_not_a_failure(engine, monkeypatch):
    """A call re-processed during a rebuild deletes the mentions the rebuild has read."""
    X, _ = topic_vectors(TOPICS, PER_TOPIC, seed=4)
    with session_scope(engine) as session:
        workspace_id = get_or_create_workspace(session=session, name="acme").id
        ids = add_mentions(session, workspace_id, X, calls=12)
    gone = ids[::7]
    load = rebuild_module._load_kind

    def load_then_lose_some(**kwargs):
        loaded = load(**kwargs)
        with session_scope(engine) as other:  # the other job commits its delete meanwhile
            for mention in other.exec(select(Mention).where(Mention.id.in_(gone))):
                other.delete(mention)
        return loaded

    monkeypatch.setattr(rebuild_module, "_load_kind", load_then_lose_some)
    members = rebuild_objections(engine, workspace_id)
    placed = set().union(*members.values())
    assert placed and placed.isdisjoint(gone)
    assert placed <= set(ids) - set(gone)
