"""The job queue's guarantees: a live job is never taken from its worker, a stale result
never overwrites another worker's, crashes count as attempts, calls go before rebuilds,
and a workspace has at most one waiting rebuild."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.db import session_scope
from app.services.jobs import (
    LeaseLost,
    claim_next,
    complete,
    enqueue,
    fail,
    heartbeat,
    recover_stalled,
)
from app.services.workspaces import get_or_create_workspace
from app.worker import CALL_KINDS, Worker
from models import Job
from models.base import utcnow

LEASE = 30.0


@pytest.fixture
def workspace_id(engine) -> int:
    with session_scope(engine) as session:
        return get_or_create_workspace(session=session, name="acme").id


def _enqueue(engine, workspace_id: int, kind: str = "roles") -> int:
    with session_scope(engine) as session:
        return enqueue(session=session, workspace_id=workspace_id, kind=kind).id


def _claim(engine, worker_id: str, kinds=None) -> Job | None:
    with Session(engine, expire_on_commit=False) as session:
        return claim_next(session=session, worker_id=worker_id, kinds=kinds)


def _job(engine, job_id: int) -> Job:
    with Session(engine) as session:
        job = session.get(Job, job_id)
        session.expunge(job)
        return job


def _silence(engine, job_id: int, seconds: float = 10 * LEASE) -> None:
    """As if the job's worker was killed `seconds` ago: its heartbeat stopped then."""
    with session_scope(engine) as session:
        session.execute(update(Job).where(Job.id == job_id)
                        .values(heartbeat_at=utcnow() - timedelta(seconds=seconds)))


def _recover(engine) -> int:
    with session_scope(engine) as session:
        return recover_stalled(session=session, lease_seconds=LEASE)


def test_recovery_leaves_a_job_with_a_live_heartbeat_alone(engine, workspace_id):
    job_id = _enqueue(engine, workspace_id)
    assert _claim(engine, "a").id == job_id
    _silence(engine, job_id, seconds=LEASE / 2)  # a slow job, still inside its lease
    assert _recover(engine) == 0
    job = _job(engine, job_id)
    assert (job.status, job.locked_by) == ("running", "a")


def test_heartbeat_keeps_a_long_job_alive(engine, workspace_id):
    job_id = _enqueue(engine, workspace_id)
    _claim(engine, "a")
    _silence(engine, job_id)
    with session_scope(engine) as session:
        assert heartbeat(session=session, job_id=job_id, worker_id="a")
        assert not heartbeat(session=session, job_id=job_id, worker_id="b")
    assert _recover(engine) == 0


def test_a_dead_workers_job_is_queued_again_and_counts_an_attempt(engine, workspace_id):
    job_id = _enqueue(engine, workspace_id)
    _claim(engine, "a")
    _silence(engine, job_id)
    assert _recover(engine) == 1
    job = _job(engine, job_id)
    assert (job.status, job.locked_by, job.attempts) == ("queued", None, 1)
    assert "stopped responding" in job.error and "attempt 1 of 3" in job.error


def test_a_job_that_keeps_killing_its_worker_fails_after_max_attempts(engine, workspace_id):
    job_id = _enqueue(engine, workspace_id)
    for attempt in range(1, 4):
        with session_scope(engine) as session:  # skip the backoff wait
            session.execute(update(Job).where(Job.id == job_id).values(available_at=None))
        assert _claim(engine, f"w{attempt}").id == job_id
        _silence(engine, job_id)
        assert _recover(engine) == 1
    job = _job(engine, job_id)
    assert (job.status, job.attempts) == ("failed", 3)
    assert "attempt 3 of 3" in job.error
    assert _claim(engine, "w4") is None


def test_a_late_finisher_cannot_settle_a_job_it_lost(engine, workspace_id):
    job_id = _enqueue(engine, workspace_id)
    _claim(engine, "a")
    _silence(engine, job_id)
    _recover(engine)
    with session_scope(engine) as session:
        session.execute(update(Job).where(Job.id == job_id).values(available_at=None))
    assert _claim(engine, "b").id == job_id
    with pytest.raises(LeaseLost), session_scope(engine) as session:
        complete(session=session, job_id=job_id, worker_id="a")
    with session_scope(engine) as session:
        assert not fail(session=session, job_id=job_id, worker_id="a", error="boom")
    job = _job(engine, job_id)
    assert (job.status, job.locked_by) == ("running", "b")
    with session_scope(engine) as session:
        complete(session=session, job_id=job_id, worker_id="b")
    assert _job(engine, job_id).status == "done"


def test_a_worker_that_lost_its_job_rolls_its_work_back(engine, workspace_id):
    """The whole run of a worker whose job was taken back is discarded, not committed."""
    job_id = _enqueue(engine, workspace_id)
    slow = Worker(engine, models=None, lease_seconds=LEASE, name="slow")
    claimed = _claim(engine, slow.worker_id)
    _silence(engine, job_id)
    _recover(engine)
    with session_scope(engine) as session:
        session.execute(update(Job).where(Job.id == job_id).values(available_at=None))
    fast = Worker(engine, models=None, lease_seconds=LEASE, name="fast")
    assert _claim(engine, fast.worker_id).id == job_id
    slow._run(claimed)  # finishes its (roles) job late: complete() refuses
    job = _job(engine, job_id)
    assert (job.status, job.locked_by) == ("running", fast.worker_id)


def test_an_error_is_retried_after_a_backoff_then_fails(engine, workspace_id):
    job_id = _enqueue(engine, workspace_id)
    _claim(engine, "a")
    with session_scope(engine) as session:
        assert fail(session=session, job_id=job_id, worker_id="a", error="ValueError: bad")
    job = _job(engine, job_id)
    assert job.status == "queued" and job.available_at is not None
    assert _claim(engine, "a") is None  # waiting out its backoff
    for _ in range(2):
        with session_scope(engine) as session:
            session.execute(update(Job).where(Job.id == job_id).values(available_at=None))
        _claim(engine, "a")
        with session_scope(engine) as session:
            fail(session=session, job_id=job_id, worker_id="a", error="ValueError: bad")
    job = _job(engine, job_id)
    assert (job.status, job.attempts, job.error) == ("failed", 3, "ValueError: bad")


def test_calls_are_claimed_before_an_older_rebuild(engine, workspace_id):
    rebuild = _enqueue(engine, workspace_id, "rebuild")
    calls = [_enqueue(engine, workspace_id, "process_call") for _ in range(3)]
    assert _claim(engine, "lane", kinds=CALL_KINDS).id == calls[0]
    assert [_claim(engine, "a").id for _ in range(3)] == [*calls[1:], rebuild]
    assert _claim(engine, "lane", kinds=CALL_KINDS) is None


def test_one_waiting_rebuild_per_workspace(engine, workspace_id):
    first = _enqueue(engine, workspace_id, "rebuild")
    assert _enqueue(engine, workspace_id, "rebuild") == first
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(Job(workspace_id=workspace_id, kind="rebuild"))
    _claim(engine, "a")  # once it runs, the next change queues a new one
    second = _enqueue(engine, workspace_id, "rebuild")
    assert second != first
    assert _enqueue(engine, workspace_id, "rebuild") == second


def test_a_crashed_rebuild_gives_way_to_a_newer_waiting_one(engine, workspace_id):
    first = _enqueue(engine, workspace_id, "rebuild")
    _claim(engine, "a")
    second = _enqueue(engine, workspace_id, "rebuild")
    _silence(engine, first)
    assert _recover(engine) == 1
    job = _job(engine, first)
    assert job.status == "failed" and f"superseded by job {second}" in job.error
    assert _job(engine, second).status == "queued"


@pytest.mark.slow
def test_why_a_job_failed_is_in_the_api_and_on_its_call(api):
    from tests.app.factories import transcript

    posted = api.client.post("/v1/calls", headers=api.headers,
                             json=transcript("crash-1", ["Too expensive for us."])).json()
    engine = api.client.app.state.engine
    for attempt in range(3):
        with session_scope(engine) as session:
            session.execute(update(Job).where(Job.id == posted["job_id"])
                            .values(available_at=None))
        assert _claim(engine, f"oom-{attempt}").id == posted["job_id"]
        _silence(engine, posted["job_id"])
        _recover(engine)
    job = api.client.get(f"/v1/jobs/{posted['job_id']}", headers=api.headers).json()
    assert job["status"] == "failed" and job["attempts"] == 3
    assert "stopped responding" in job["error"]
    call = api.client.get(f"/v1/calls/{posted['call_id']}", headers=api.headers).json()
    assert call["status"] == "failed"


def test_a_very_long_call_waits_for_the_ordinary_calls_queued_after_it(api, monkeypatch):
    from tests.app.factories import transcript

    monkeypatch.setattr("app.services.jobs.BIG_CALL_UTTERANCES", 10)
    posted = [api.client.post("/v1/calls", headers=api.headers, json=transcript(
        f"len-{n}", ["We already pay for a tool that does this."] * n)).json()
        for n in (8, 2, 3)]  # 16 utterances, then 4 and 6
    engine = api.client.app.state.engine
    order = [_claim(engine, "w").call_id for _ in posted]
    assert order == [posted[1]["call_id"], posted[2]["call_id"], posted[0]["call_id"]]


def test_the_api_process_runs_jobs_itself_on_sqlite_only_unless_told():
    from app.settings import Settings

    assert Settings(database_url="sqlite:///x.db").runs_jobs_in_process()
    assert not Settings(database_url="postgresql://db/v").runs_jobs_in_process()
    assert Settings(database_url="postgresql://db/v", worker_enabled=True).runs_jobs_in_process()
    assert not Settings(database_url="sqlite:///x.db",
                        worker_enabled=False).runs_jobs_in_process()
