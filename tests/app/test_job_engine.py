"""The job engine on PostgreSQL (procrastinate): every Job row has a ticket deferred in its
own transaction, calls run before rebuilds, one waiting rebuild per workspace, a worker's
crash counts an attempt and fails the job after the limit with the reason on the row, a
late finisher never overwrites, a row without a ticket gets one, and a row runs once however
many tickets it has. Skipped without VERBATIM_TEST_DATABASE_URL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import text, update
from sqlmodel import Session

from app.db import make_engine, migrate, session_scope
from app.job_engine import TASK_NAME, migrations_between, reconcile
from app.pg_worker import TicketWorker
from app.services.jobs import LeaseLost, claim, complete, enqueue
from app.services.workspaces import get_or_create_workspace
from models import Job
from models.base import utcnow
from tests.app.conftest import PG_URL, reset_postgres

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs VERBATIM_TEST_DATABASE_URL")

LEASE = 2.0  # seconds without a heartbeat before a ticket's worker counts as dead


@pytest.fixture
def engine():
    reset_postgres(PG_URL)
    engine = make_engine(PG_URL)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def workspace_id(engine) -> int:
    with session_scope(engine) as session:
        return get_or_create_workspace(session=session, name="acme").id


@pytest.fixture
def worker(engine, models) -> TicketWorker:
    """The real models: a rebuild labels with spaCy and refreshes the search index."""
    return TicketWorker(engine, models=models, lease_seconds=LEASE, concurrency=1)


def _enqueue(engine, workspace_id: int, kind: str = "roles", **kw) -> int:
    with session_scope(engine) as session:
        return enqueue(session=session, workspace_id=workspace_id, kind=kind, **kw).id


def _tickets(engine, job_id: int | None = None) -> list[dict]:
    query = ("SELECT id, status, queue_name, priority, lock, queueing_lock, scheduled_at, "
             "(args->>'job_id')::int AS job_id FROM procrastinate_jobs WHERE task_name = :t")
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(text(query + " ORDER BY id"),
                                                       {"t": TASK_NAME})]
    return [r for r in rows if job_id is None or r["job_id"] == job_id]


def _job(engine, job_id: int) -> Job:
    with Session(engine) as session:
        job = session.get(Job, job_id)
        session.expunge(job)
        return job


def _hold_with_dead_worker(engine, worker: TicketWorker, job_id: int, alive=False) -> str:
    """As if a worker fetched the job's ticket, claimed the row, and was killed: its
    heartbeat stopped long ago (with `alive`, the row's own heartbeat is still renewed, as
    by a worker that is stopping after its jobs in hand)."""

    async def fetch() -> int:
        app = worker._app()
        async with app.open_async():
            dead = await app.job_manager.register_worker()
            ticket = await app.job_manager.fetch_job(queues=None, worker_id=dead)
            assert ticket is not None and ticket.task_kwargs["job_id"] == job_id
            return ticket.id

    ticket_id = asyncio.run(fetch())
    with engine.begin() as conn:
        conn.execute(text("UPDATE procrastinate_workers SET last_heartbeat = now() - "
                          "interval '1 hour'"))
    holder = f"pj{ticket_id}:killed-host:1:dead"
    with Session(engine, expire_on_commit=False) as session:
        assert claim(session=session, job_id=job_id, worker_id=holder) is not None
    if not alive:
        with session_scope(engine) as session:
            session.execute(update(Job).where(Job.id == job_id).values(
                heartbeat_at=utcnow() - timedelta(seconds=10 * LEASE)))
    return holder


def test_a_ticket_is_deferred_with_its_row_and_only_if_the_row_commits(engine, workspace_id):
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        enqueue(session=session, workspace_id=workspace_id, kind="roles")
        raise RuntimeError("the request fails after queueing")
    assert _tickets(engine) == []
    job_id = _enqueue(engine, workspace_id, "process_call")
    [ticket] = _tickets(engine)
    assert ticket["job_id"] == job_id and ticket["status"] == "todo"
    assert (ticket["queue_name"], ticket["lock"]) == ("calls", "call-None")


def test_calls_run_before_an_older_rebuild(engine, workspace_id, worker):
    rebuild = _enqueue(engine, workspace_id, "rebuild")
    roles = _enqueue(engine, workspace_id, "roles")
    assert [t["priority"] for t in _tickets(engine)] == [-2, -1]
    assert worker.run_until_idle() == 2
    first, second = _job(engine, roles), _job(engine, rebuild)
    assert (first.status, second.status) == ("done", "done")
    assert first.started_at < second.started_at


def test_one_waiting_rebuild_per_workspace(engine, workspace_id):
    first = _enqueue(engine, workspace_id, "rebuild")
    assert _enqueue(engine, workspace_id, "rebuild") == first
    [ticket] = _tickets(engine)
    assert ticket["queueing_lock"] == f"rebuild-{workspace_id}"
    # a second waiting ticket for the workspace's rebuild is refused by procrastinate
    with session_scope(engine) as session:
        from app.job_engine import defer

        defer(session=session, job=session.get(Job, first))
    assert len(_tickets(engine)) == 1


def test_a_ticket_whose_row_is_settled_does_nothing(engine, workspace_id, worker):
    job_id = _enqueue(engine, workspace_id)
    with session_scope(engine) as session:
        session.execute(update(Job).where(Job.id == job_id).values(status="done"))
    assert worker.run_until_idle() == 0
    job = _job(engine, job_id)
    assert (job.status, job.attempts) == ("done", 0)


def test_a_row_with_two_tickets_runs_once(engine, workspace_id, worker):
    job_id = _enqueue(engine, workspace_id)
    with session_scope(engine) as session:
        from app.job_engine import defer

        defer(session=session, job=session.get(Job, job_id))
    assert len(_tickets(engine, job_id)) == 2
    assert worker.run_until_idle() == 1
    job = _job(engine, job_id)
    assert (job.status, job.attempts) == ("done", 1)
    assert _tickets(engine) == []  # both succeeded (and were cleaned up)


def test_an_error_is_retried_when_the_row_says_then_fails(engine, workspace_id, worker):
    job_id = _enqueue(engine, workspace_id, "process_call")  # no call: the body raises
    assert worker.run_until_idle() == 1
    job = _job(engine, job_id)
    assert (job.status, job.attempts) == ("queued", 1) and "without a call" in job.error
    [ticket] = _tickets(engine, job_id)
    assert ticket["status"] == "todo" and ticket["scheduled_at"] == job.available_at
    assert worker.run_until_idle() == 0  # waiting out its backoff
    for _ in range(2):
        with engine.begin() as conn:
            conn.execute(text("UPDATE procrastinate_jobs SET scheduled_at = now()"))
        worker.run_until_idle()
    job = _job(engine, job_id)
    assert (job.status, job.attempts) == ("failed", 3)
    assert [t["status"] for t in _tickets(engine, job_id)] == ["failed"]


def test_a_killed_workers_job_counts_an_attempt_and_fails_after_the_limit(
        engine, workspace_id, worker):
    job_id = _enqueue(engine, workspace_id)
    holders = []
    for attempt in range(1, 4):
        holders.append(_hold_with_dead_worker(engine, worker, job_id))
        worker.recover()
        job = _job(engine, job_id)
        assert f"attempt {attempt} of 3" in job.error and "stopped responding" in job.error
        with engine.begin() as conn:  # skip the backoff
            conn.execute(text("UPDATE procrastinate_jobs SET scheduled_at = now()"))
    job = _job(engine, job_id)
    assert (job.status, job.attempts, job.locked_by) == ("failed", 3, None)
    assert [t["status"] for t in _tickets(engine, job_id)] == ["failed"]
    # the killed worker comes back to life and finishes late: it cannot settle the row
    with pytest.raises(LeaseLost), session_scope(engine) as session:
        complete(session=session, job_id=job_id, worker_id=holders[-1])
    assert _job(engine, job_id).status == "failed"


def test_a_killed_workers_job_runs_again_elsewhere(engine, workspace_id, worker):
    job_id = _enqueue(engine, workspace_id)
    holder = _hold_with_dead_worker(engine, worker, job_id)
    worker.recover()
    with engine.begin() as conn:
        conn.execute(text("UPDATE procrastinate_jobs SET scheduled_at = now()"))
    assert worker.run_until_idle() == 1
    job = _job(engine, job_id)
    assert (job.status, job.attempts) == ("done", 2)
    with pytest.raises(LeaseLost), session_scope(engine) as session:
        complete(session=session, job_id=job_id, worker_id=holder)


def test_a_stopping_worker_that_still_renews_its_job_keeps_it(engine, workspace_id, worker):
    """procrastinate stops a worker's heartbeat while it finishes its jobs on SIGTERM: the
    row's own heartbeat says the job is still being run, so it is not run a second time."""
    job_id = _enqueue(engine, workspace_id)
    holder = _hold_with_dead_worker(engine, worker, job_id, alive=True)
    worker.recover()
    job = _job(engine, job_id)
    assert (job.status, job.locked_by, job.attempts) == ("running", holder, 1)
    assert [t["status"] for t in _tickets(engine, job_id)] == ["doing"]


def test_a_queued_row_without_a_ticket_gets_one(engine, workspace_id, worker):
    job_id = _enqueue(engine, workspace_id)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM procrastinate_jobs"))
    assert reconcile(engine) == 0  # too young: its own ticket may still be committing
    later = utcnow() + timedelta(minutes=1)
    assert reconcile(engine, now=later) == 1
    assert reconcile(engine, now=later) == 0
    assert len(_tickets(engine, job_id)) == 1
    assert worker.run_until_idle() == 1
    assert _job(engine, job_id).status == "done"


def test_a_row_left_running_by_an_ended_ticket_is_released(engine, workspace_id, worker):
    job_id = _enqueue(engine, workspace_id)
    [ticket] = _tickets(engine)
    with Session(engine, expire_on_commit=False) as session:
        claim(session=session, job_id=job_id, worker_id=f"pj{ticket['id']}:h:1:x")
    with engine.begin() as conn:
        conn.execute(text("UPDATE procrastinate_jobs SET status = 'failed'"))
    assert worker._release_orphans() == 1
    job = _job(engine, job_id)
    assert job.status == "queued" and "ended without settling it" in job.error


def test_a_row_held_by_a_worker_from_before_procrastinate_is_released(engine, workspace_id,
                                                                       worker):
    """An upgraded database: a job the old engine's worker held when it was stopped."""
    job_id = _enqueue(engine, workspace_id)
    with Session(engine, expire_on_commit=False) as session:
        claim(session=session, job_id=job_id, worker_id="host:1:all:old")
    assert worker._release_orphans() == 0  # its heartbeat is still fresh
    with session_scope(engine) as session:
        session.execute(update(Job).where(Job.id == job_id).values(
            heartbeat_at=utcnow() - timedelta(seconds=10 * LEASE)))
    assert worker._release_orphans() == 1
    assert _job(engine, job_id).status == "queued"


def test_the_job_engine_schema_is_marked_and_applied_once(engine):
    migrate(engine)  # a second start changes nothing
    with engine.connect() as conn:
        mark = conn.execute(text(
            "SELECT obj_description('procrastinate_jobs'::regclass, 'pg_class')")).scalar()
    assert mark.startswith("procrastinate 3.")
    scripts = migrations_between("3.0.0", "3.4.0")
    assert scripts and all(s.name[:8] > "03.00.00" for s in scripts)
    assert migrations_between("3.4.0", "3.4.0") == []
