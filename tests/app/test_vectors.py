"""The per-workspace vector index is a cache: what it answers always agrees with the database,
whoever wrote it (this process, another one, a commit that came late, a deletion)."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import delete
from sqlmodel import Session

import app.services.vectors as vectors_module
from app.db import make_engine, migrate, session_scope
from app.services.search import search_mentions
from app.services.vectors import MentionIndexes
from app.services.workspaces import get_or_create_workspace
from models import Mention
from pipelines.vectors import is_compact
from tests.app.mention_rows import add_mentions, topic_vectors


class FixedEmbedder:
    """Encodes any text as the vector it was given: search tests choose the query point."""

    def __init__(self, vector: np.ndarray) -> None:
        self.vector = vector

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.tile(self.vector, (len(texts), 1))


@pytest.fixture
def workspace_id(engine) -> int:
    with session_scope(engine) as session:
        return get_or_create_workspace(session=session, name="acme").id


def _add(engine, workspace_id, X, **kwargs) -> list[int]:
    with session_scope(engine) as session:
        return add_mentions(session, workspace_id, X, **kwargs)


def _nearest(indexes, engine, workspace_id, q, k=5) -> list[int]:
    with Session(engine) as session:
        return [int(i) for i in indexes.nearest(session=session, workspace_id=workspace_id,
                                                vector=q, k=k)[0]]


def test_built_from_the_database_and_kept_up_with_other_writers(engine, workspace_id):
    X, _ = topic_vectors(4, 30)
    ids = _add(engine, workspace_id, X[:60], legacy=True)  # float32 blobs from before
    indexes = MentionIndexes()
    assert _nearest(indexes, engine, workspace_id, X[10], 1) == [ids[10]]
    # rows another process wrote since: picked up on the next use, without a full scan
    more = _add(engine, workspace_id, X[60:], tag="b")
    assert _nearest(indexes, engine, workspace_id, X[100], 1) == [more[40]]


def test_deletions_and_late_commits_are_reconciled(engine, workspace_id, monkeypatch):
    X, _ = topic_vectors(4, 30)
    ids = _add(engine, workspace_id, X)
    indexes = MentionIndexes()
    assert _nearest(indexes, engine, workspace_id, X[5], 1) == [ids[5]]
    with session_scope(engine) as session:
        session.execute(delete(Mention).where(Mention.id.in_(ids[:10])))
    monkeypatch.setattr(vectors_module, "RECONCILE_SECONDS", 0.0)
    assert ids[5] not in _nearest(indexes, engine, workspace_id, X[5], 120)
    assert len(_nearest(indexes, engine, workspace_id, X[5], 500)) == len(X) - 10


def test_a_job_s_mentions_enter_only_when_its_session_commits(engine, workspace_id):
    X, _ = topic_vectors(2, 20)
    _add(engine, workspace_id, X[:20])
    indexes = MentionIndexes()
    _nearest(indexes, engine, workspace_id, X[0])  # built
    with Session(engine) as session:  # rolled back: never in the index
        ids = add_mentions(session, workspace_id, X[20:], tag="x")
        mentions = [session.get(Mention, i) for i in ids]
        indexes.on_commit(session=session, workspace_id=workspace_id, added=mentions,
                          removed=[])
        session.rollback()
    entry = next(iter(indexes._entries.values()))
    assert len(entry.index) == 20
    with Session(engine) as session:
        ids = add_mentions(session, workspace_id, X[20:], tag="y")
        mentions = [session.get(Mention, i) for i in ids]
        indexes.on_commit(session=session, workspace_id=workspace_id, added=mentions,
                          removed=[])
        session.commit()
    assert len(entry.index) == 40 and entry.max_id == max(ids)


def test_saved_next_to_a_sqlite_file_and_read_back(tmp_path, monkeypatch):
    engine = make_engine(f"sqlite:///{tmp_path}/v.db")
    migrate(engine)
    with session_scope(engine) as session:
        workspace_id = get_or_create_workspace(session=session, name="acme").id
    X, _ = topic_vectors(3, 20)
    ids = _add(engine, workspace_id, X)
    _nearest(MentionIndexes(), engine, workspace_id, X[0])
    saved = list((tmp_path / "v.db.vectors").glob("*.usearch"))
    assert len(saved) == 1
    loaded = MentionIndexes()
    monkeypatch.setattr(vectors_module.HnswIndex, "add", None)  # nothing may be re-added
    assert _nearest(loaded, engine, workspace_id, X[7], 1) == [ids[7]]
    engine.dispose()


def test_search_filters_and_ranks_by_the_exact_cosine(engine, workspace_id):
    X, topic = topic_vectors(3, 40)
    lost = _add(engine, workspace_id, X[:60], outcome="lost")
    won = _add(engine, workspace_id, X[60:], outcome="won", kind="question", tag="w")
    ids = np.array(lost + won)
    indexes = MentionIndexes()
    q = X[0]
    with Session(engine) as session:
        hits = search_mentions(session=session, workspace_id=workspace_id,
                               embedder=FixedEmbedder(q), vectors=indexes, query="price",
                               limit=10)
        assert [h.mention.id for h in hits] == [int(i) for i in ids[np.argsort(-(X @ q))[:10]]]
        assert hits[0].similarity == pytest.approx(1.0, abs=1e-3)
        # a filter that only the far topic passes still fills the page
        far = X[topic == 2][0]
        won_hits = search_mentions(session=session, workspace_id=workspace_id,
                                   embedder=FixedEmbedder(q), vectors=indexes, query="price",
                                   outcome="won", limit=30, min_similarity=-1.0)
        assert len(won_hits) == 30 and {h.call.outcome for h in won_hits} == {"won"}
        assert all(h.mention.kind == "question" for h in won_hits)
        assert search_mentions(session=session, workspace_id=workspace_id,
                               embedder=FixedEmbedder(far), vectors=indexes, query="x",
                               kind="pain") == []
        assert all(is_compact(m.embedding) for m in session.exec(
            Mention.__table__.select()).mappings())
