"""The job queue, kept in the database so that it survives restarts.

A worker claims a job (status running, locked_by = its id), renews `heartbeat_at` while it
runs it, and settles it only while it still holds it. A job whose heartbeat stops (its
worker was killed) is taken back by any worker after the lease, and that crash counts as
an attempt: a job that keeps killing its worker fails after `max_attempts`, with the
reason in `error`.

On PostgreSQL each Job row also gets a procrastinate job, its ticket (app/job_engine.py),
deferred in the same transaction: procrastinate decides who runs what and when, and these
functions keep the row (what `GET /v1/jobs/{id}` shows) the truth about what happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app import job_engine
from app.errors import NotFound
from models import Call, Job, Utterance
from models.base import utcnow
from models.job import BIG_CALL_PRIORITY, BIG_CALL_UTTERANCES, PRIORITIES

BACKOFF_BASE_S = 5.0
BACKOFF_MAX_S = 120.0


class LeaseLost(Exception):
    """The job was taken back from this worker (its heartbeat lapsed): its result is dropped."""


def enqueue(*, session: Session, workspace_id: int, kind: str, call_id: int | None = None,
            refit: bool = False) -> Job:
    """Queues a job; a rebuild joins the one already waiting for the workspace, if any (and a
    refit asked for makes the waiting one a refit)."""
    if kind == "rebuild":
        waiting = pending_rebuild(session=session, workspace_id=workspace_id)
        if waiting is not None:
            return _with_refit(session, waiting, refit)
    job = Job(workspace_id=workspace_id, kind=kind, call_id=call_id, refit=refit,
              priority=_priority(session=session, kind=kind, call_id=call_id))
    try:
        with session.begin_nested():
            session.add(job)
    except IntegrityError:
        # another transaction queued the workspace's rebuild at the same moment
        waiting = pending_rebuild(session=session, workspace_id=workspace_id)
        if kind != "rebuild" or waiting is None:
            raise
        return _with_refit(session, waiting, refit)
    if job_engine.on_postgres(session):
        job_engine.defer(session=session, job=job)
    return job


def _with_refit(session: Session, job: Job, refit: bool) -> Job:
    if refit and not job.refit:
        job.refit = True
        session.add(job)
    return job


def _priority(*, session: Session, kind: str, call_id: int | None) -> int:
    if kind == "process_call" and call_id is not None:
        turns = session.exec(select(func.count()).where(Utterance.call_id == call_id)).one()
        if turns >= BIG_CALL_UTTERANCES:
            return BIG_CALL_PRIORITY
    return PRIORITIES.get(kind, 1)


def pending_rebuild(*, session: Session, workspace_id: int) -> Job | None:
    return session.exec(
        select(Job).where(
            Job.workspace_id == workspace_id, Job.kind == "rebuild", Job.status == "queued"
        )
    ).first()


def get_job(*, session: Session, workspace_id: int, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None or job.workspace_id != workspace_id:
        raise NotFound(f"job {job_id} not found", detail={"job_id": job_id})
    return job


def claim_next(*, session: Session, worker_id: str,
               kinds: Sequence[str] | None = None) -> Job | None:
    """Atomically moves the most urgent ready job to running; None when there is none."""
    now = utcnow()
    query = select(Job.id).where(
        Job.status == "queued", or_(Job.available_at.is_(None), Job.available_at <= now))
    if kinds:
        query = query.where(Job.kind.in_(kinds))
    candidates = session.exec(query.order_by(Job.priority, Job.id).limit(5)).all()
    for job_id in candidates:
        job = claim(session=session, job_id=job_id, worker_id=worker_id)
        if job is not None:
            return job
    return None


def claim(*, session: Session, job_id: int, worker_id: str) -> Job | None:
    """Moves this job from queued to running for `worker_id` (an attempt) and commits;
    None when it is not queued: done, failed, gone, or already held by another worker."""
    now = utcnow()
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "queued")
        .values(status="running", locked_by=worker_id, started_at=now, heartbeat_at=now,
                attempts=Job.attempts + 1)
    )
    session.commit()
    return session.get(Job, job_id) if result.rowcount == 1 else None


def _held(job_id: int, worker_id: str):
    return (Job.id == job_id, Job.locked_by == worker_id, Job.status == "running")


def heartbeat(*, session: Session, job_id: int, worker_id: str) -> bool:
    """Renews the lease; False when the job is no longer this worker's."""
    result = session.execute(
        update(Job).where(*_held(job_id, worker_id)).values(heartbeat_at=utcnow()))
    return result.rowcount == 1


def complete(*, session: Session, job_id: int, worker_id: str) -> None:
    """Marks the job done in the caller's transaction; raises LeaseLost when it is no longer
    held, so that the caller rolls its work back instead of overwriting another worker's."""
    result = session.execute(
        update(Job).where(*_held(job_id, worker_id))
        .values(status="done", progress=1.0, error=None, locked_by=None, finished_at=utcnow()))
    if result.rowcount != 1:
        raise LeaseLost(f"job {job_id} is no longer held by {worker_id}")


def fail(*, session: Session, job_id: int, worker_id: str, error: str) -> bool:
    """Records a failed attempt: queued again after a backoff, or failed for good after
    max_attempts. False when the job is no longer this worker's (nothing is changed)."""
    job = session.get(Job, job_id)
    if job is None or job.locked_by != worker_id or job.status != "running":
        return False
    return _settle(session=session, job=job, error=error, now=utcnow())


def recover_stalled(*, session: Session, lease_seconds: float,
                    now: datetime | None = None) -> int:
    """Jobs whose worker stopped renewing its heartbeat are queued again or failed."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=lease_seconds)
    last_sign = func.coalesce(Job.heartbeat_at, Job.started_at)
    stalled = session.exec(select(Job).where(Job.status == "running", last_sign < cutoff)).all()
    recovered = 0
    for job in stalled:
        error = (f"worker {job.locked_by} stopped responding (no heartbeat for "
                 f"{lease_seconds:g} s) during attempt {job.attempts} of {job.max_attempts}")
        recovered += _settle(session=session, job=job, error=error, now=now,
                             guard=last_sign < cutoff)
    return recovered


def settle_abandoned(*, session: Session, job_id: int, holder_prefix: str, reason: str,
                     silent_since: datetime) -> bool:
    """A job whose holder looks dead (its procrastinate worker stopped sending heartbeats)
    is queued again or failed, the crash counting as an attempt — only while a holder whose
    id starts with `holder_prefix` still has it and has not renewed the job's own heartbeat
    since `silent_since` (a worker that is stopping, or starved, still renews it). False
    when nothing was changed."""
    job = session.get(Job, job_id)
    if job is None or job.status != "running" or not (job.locked_by or "").startswith(
            holder_prefix):
        return False
    last_sign = func.coalesce(Job.heartbeat_at, Job.started_at)
    error = f"{reason} during attempt {job.attempts} of {job.max_attempts}"
    return _settle(session=session, job=job, error=error, now=utcnow(),
                   guard=last_sign < silent_since)


def backoff_seconds(attempts: int) -> float:
    return min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** max(0, attempts - 1))


def _settle(*, session: Session, job: Job, error: str, now: datetime, guard=None) -> bool:
    """One conditional update, so that a worker and a recoverer never both settle a job."""
    give_up = job.attempts >= job.max_attempts
    if not give_up and job.kind == "rebuild":
        newer = pending_rebuild(session=session, workspace_id=job.workspace_id)
        if newer is not None:  # a newer rebuild is queued already: it does this one's work
            give_up, error = True, f"{error}; superseded by job {newer.id}"
    values: dict = {"locked_by": None, "error": error}
    if give_up:
        values.update(status="failed", finished_at=now)
    else:
        values.update(status="queued", available_at=now + timedelta(
            seconds=backoff_seconds(job.attempts)))
    conditions = [*_held(job.id, job.locked_by or ""), *([guard] if guard is not None else [])]
    result = session.execute(update(Job).where(*conditions).values(**values)
                             .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    if give_up and job.kind == "process_call" and job.call_id is not None:
        # unless a newer version of the call is already queued
        newer = select(Job.id).where(Job.call_id == job.call_id, Job.id != job.id,
                                     Job.status.in_(("queued", "running")))
        session.execute(update(Call).where(Call.id == job.call_id, ~newer.exists())
                        .values(status="failed", updated_at=now)
                        .execution_options(synchronize_session=False))
    session.expire(job)
    return True
