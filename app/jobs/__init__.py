"""Where the database meets the pipeline: one function per job kind."""

from __future__ import annotations

from sqlmodel import Session

from app.jobs.process_call import process_call
from app.jobs.rebuild import rebuild_workspace
from app.jobs.roles import reprocess_changed_roles
from app.nlp import Models
from models import Job


def run_job(*, session: Session, job: Job, models: Models) -> None:
    """Runs one claimed job to completion inside the given session (caller commits)."""
    if job.kind == "process_call":
        if job.call_id is None:
            raise ValueError("process_call job without a call")
        process_call(session=session, job=job, models=models)
    elif job.kind == "roles":
        reprocess_changed_roles(session=session, job=job)
    elif job.kind == "rebuild":
        rebuild_workspace(session=session, job=job, models=models)
    else:
        raise ValueError(f"unknown job kind {job.kind!r}")
