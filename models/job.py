"""Background jobs, stored so that they survive a restart."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, text
from sqlmodel import Field, SQLModel

from models.base import utcnow

JOB_STATUSES = ("queued", "running", "done", "failed")

# lower runs first: a call is never stuck behind a rebuild, and a very long call (a day-long
# recording, a merged export) waits for the ordinary calls queued with it
PRIORITIES = {"process_call": 0, "roles": 1, "rebuild": 2}
BIG_CALL_UTTERANCES = 2_000
BIG_CALL_PRIORITY = 1

_PENDING_REBUILD = "kind = 'rebuild' AND status = 'queued'"


class Job(SQLModel, table=True):
    __table_args__ = (
        # at most one queued rebuild per workspace, even when two requests race
        Index("uq_job_pending_rebuild", "workspace_id", unique=True,
              sqlite_where=text(_PENDING_REBUILD), postgresql_where=text(_PENDING_REBUILD)),
        Index("ix_job_claim", "status", "priority", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    kind: str = Field(max_length=20)  # process_call|roles|rebuild
    call_id: int | None = Field(default=None, foreign_key="call.id", index=True)
    status: str = Field(default="queued", max_length=10, index=True)
    priority: int = 0
    attempts: int = 0
    max_attempts: int = 3
    progress: float = 0.0
    # a rebuild a person asked for fits every kind afresh; one queued by processing may grow the
    # last clustering instead (app/jobs/warm_start.py)
    refit: bool = False
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    locked_by: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
    available_at: datetime | None = None  # a retry waits until then (backoff)
    started_at: datetime | None = None
    heartbeat_at: datetime | None = None  # renewed by the worker holding the job
    finished_at: datetime | None = None
