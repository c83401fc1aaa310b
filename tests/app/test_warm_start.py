"""A rebuild grows the last clustering when few mentions arrived since its fit (a warm start),
refits past REFIT_SHARE or when asked, and reads its vectors the same in any batch size."""

from __future__ import annotations

import numpy as np
import pytest
from sqlmodel import Session, select

import app.jobs.rebuild as rebuild_module
from app.db import session_scope
from app.jobs import warm_start
from app.services.clusters import rename
from app.services.workspaces import get_or_create_workspace
from models import Cluster, ClusterEvent, Job
from tests.app.mention_rows import add_mentions, rebuild_objections, topic_vectors

TOPICS, PER_TOPIC = 6, 40  # 240 mentions


@pytest.fixture
def fits(monkeypatch) -> list[int]:
    """Warm starts from 100 mentions up; the list grows by one per fit."""
    monkeypatch.setattr(warm_start, "WARM_START_MIN", 100)
    calls: list[int] = []
    fit = rebuild_module.find_themes

    def counted(*args, **kwargs):
        calls.append(len(args[0]))
        return fit(*args, **kwargs)

    monkeypatch.setattr(rebuild_module, "find_themes", counted)
    return calls




def _workspace(engine) -> tuple[int, list[int], np.ndarray]:
    X, topic = topic_vectors(TOPICS, PER_TOPIC, seed=7)
    with session_scope(engine) as session:
        workspace_id = get_or_create_workspace(session=session, name="acme").id
        ids = add_mentions(session, workspace_id, X, calls=12)
    return workspace_id, ids, topic


def _cluster_of_topic(members: dict[int, set[int]], ids: list[int],
                      topic: np.ndarray) -> dict[int, int]:
    """topic -> the cluster holding its first mention."""
    where = {m: c for c, ms in members.items() for m in ms}
    return {int(t): where[ids[int(np.flatnonzero(topic == t)[0])]] for t in range(TOPICS)}


def test_few_new_mentions_join_their_theme_without_a_refit(engine, fits):
    workspace_id, ids, topic = _workspace(engine)
    first = rebuild_objections(engine, workspace_id)
    assert fits == [len(ids)] and len(first) == TOPICS
    home = _cluster_of_topic(first, ids, topic)
    with session_scope(engine) as session:
        renamed = session.get(Cluster, home[0])
        rename(session=session, cluster=renamed, label="Too expensive")

    # 12 more (5%, under REFIT_SHARE), two per topic, and one far from every theme
    more, more_topic = topic_vectors(TOPICS, 2, seed=7, spread=0.3)
    stray = np.zeros((1, more.shape[1]), dtype=np.float32)
    stray[0, 0] = 1.0
    with session_scope(engine) as session:
        new_ids = add_mentions(session, workspace_id, np.vstack([more, stray]), calls=6, tag="b")
    second = rebuild_objections(engine, workspace_id)

    assert fits == [len(ids)]  # no second fit
    assert set(second) == set(first)
    for new_id, t in zip(new_ids, more_topic, strict=False):
        assert new_id in second[home[int(t)]]
    assert new_ids[-1] not in set().union(*second.values())  # the stray stays in other
    for cluster_id, members in first.items():
        assert members < second[cluster_id]
    with Session(engine) as session:
        assert session.get(Cluster, home[0]).label == "Too expensive"
        sizes = {c.id: c.size for c in session.exec(select(Cluster))}
        assert all(sizes[c] == len(m) for c, m in second.items())
        # a warm start records no fit: the next decision still counts from the first fit
        events = session.exec(select(ClusterEvent.event)).all()
        assert sorted(events) == ["created"] * TOPICS


def test_past_the_refit_share_a_rebuild_refits_and_keeps_ids(engine, fits):
    workspace_id, ids, topic = _workspace(engine)
    first = rebuild_objections(engine, workspace_id)
    home = _cluster_of_topic(first, ids, topic)
    # 30 more mentions: 11% of 270, over REFIT_SHARE
    more, more_topic = topic_vectors(TOPICS, 5, seed=7, spread=0.3)
    assert 30 > warm_start.REFIT_SHARE * (len(ids) + 30)
    with session_scope(engine) as session:
        new_ids = add_mentions(session, workspace_id, more, calls=6, tag="b")
    second = rebuild_objections(engine, workspace_id)
    assert fits == [len(ids), len(ids) + len(new_ids)]
    assert set(second) == set(first)
    for new_id, t in zip(new_ids, more_topic, strict=True):
        assert new_id in second[home[int(t)]]


def test_the_share_counts_from_the_last_fit_not_the_last_warm_start(engine, fits):
    """Two rounds of 18 mentions: the first (7%) grows the themes, the second (13% since the
    fit) refits."""
    workspace_id, _, _ = _workspace(engine)
    rebuild_objections(engine, workspace_id)
    for round_ in range(2):
        more, _ = topic_vectors(TOPICS, 3, seed=7 + round_, spread=0.3)
        with session_scope(engine) as session:
            add_mentions(session, workspace_id, more, calls=6, tag=f"r{round_}")
        rebuild_objections(engine, workspace_id)
        assert len(fits) == 1 + round_


def test_a_refit_can_be_asked_for_and_small_kinds_always_refit(engine, fits, monkeypatch):
    workspace_id, ids, _ = _workspace(engine)
    rebuild_objections(engine, workspace_id)
    rebuild_objections(engine, workspace_id, refit=True)  # nothing new, but asked for
    assert len(fits) == 2
    rebuild_objections(engine, workspace_id)  # nothing new: a warm start
    assert len(fits) == 2
    monkeypatch.setattr(warm_start, "WARM_START_MIN", len(ids) + 1)
    rebuild_objections(engine, workspace_id)
    assert len(fits) == 3


def test_vectors_read_in_small_batches_give_the_same_clusters(engine, monkeypatch):
    workspace_id, ids, _ = _workspace(engine)
    with Session(engine) as session:
        whole = rebuild_module._load_kind(session=session, workspace_id=workspace_id,
                                          kind="objection")
    monkeypatch.setattr(rebuild_module, "WRITE_BATCH", 7)  # 240 rows: 35 batches, the last short
    with Session(engine) as session:
        batched = rebuild_module._load_kind(session=session, workspace_id=workspace_id,
                                            kind="objection")
    assert [r.id for r in batched[0]] == [r.id for r in whole[0]] == sorted(ids)
    assert np.array_equal(batched[1], whole[1]) and batched[1].shape == (len(ids), 32)
    members = rebuild_objections(engine, workspace_id)
    monkeypatch.undo()
    assert rebuild_objections(engine, workspace_id, refit=True) == members


def test_a_rebuild_a_person_asks_for_refits_one_queued_by_processing_may_not(engine, fits,
                                                                           models):
    from app.jobs.rebuild import rebuild_workspace
    from app.services.clusters import request_rebuild
    from app.services.jobs import enqueue

    workspace_id, _, _ = _workspace(engine)
    rebuild_objections(engine, workspace_id)
    assert len(fits) == 1

    def run(job_id: int) -> None:
        with session_scope(engine) as session:
            rebuild_workspace(session=session, job=session.get(Job, job_id), models=models)

    with session_scope(engine) as session:  # as processing a call queues it
        automatic = enqueue(session=session, workspace_id=workspace_id, kind="rebuild")
        automatic_id, automatic_refit = automatic.id, automatic.refit
    assert not automatic_refit
    run(automatic_id)
    assert len(fits) == 1  # nothing new since the fit: the objections grew the last clustering

    with session_scope(engine) as session:
        queued = enqueue(session=session, workspace_id=workspace_id, kind="rebuild")
        queued_id = queued.id
    with session_scope(engine) as session:  # the button, while that one waits: the same job...
        asked = request_rebuild(session=session, workspace_id=workspace_id)
        assert asked.id == queued_id and asked.refit  # ...now a refit
    run(queued_id)
    assert len(fits) == 2
