"""The job queue, kept in the database so that it survives restarts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from app.errors import NotFound
from models import Job
from models.base import utcnow


def enqueue(*, session: Session, workspace_id: int, kind: str, call_id: int | None = None) -> Job:
    job = Job(workspace_id=workspace_id, kind=kind, call_id=call_id)
    session.add(job)
    session.flush()
    return job


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


def claim_next(*, session: Session, worker_id: str) -> Job | None:
    """Atomically moves the oldest queued job to running; None when the queue is empty."""
    candidates = session.exec(
        select(Job.id).where(Job.status == "queued").order_by(Job.id).limit(5)
    ).all()
    for job_id in candidates:
        result = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "queued")
            .values(status="running", locked_by=worker_id, started_at=utcnow(),
                    attempts=Job.attempts + 1)
        )
        session.commit()
        if result.rowcount == 1:
            return session.get(Job, job_id)
    return None


def finish(*, session: Session, job: Job, error: str | None = None) -> None:
    """Marks a job done, or failed / re-queued after an error (up to max_attempts)."""
    job.finished_at = utcnow()
    job.locked_by = None
    if error is None:
        job.status, job.progress, job.error = "done", 1.0, None
    elif job.attempts < job.max_attempts:
        job.status, job.error = "queued", error
    else:
        job.status, job.error = "failed", error
    session.add(job)


def requeue_stale(*, session: Session, older_than: timedelta = timedelta(0)) -> int:
    """Jobs left running by a process that died go back to the queue."""
    cutoff = utcnow() - older_than
    result = session.execute(
        update(Job)
        .where(Job.status == "running", Job.started_at <= cutoff)
        .values(status="queued", locked_by=None)
    )
    return int(result.rowcount or 0)

