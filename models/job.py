"""Background jobs, stored so that they survive a restart."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from models.base import utcnow

JOB_STATUSES = ("queued", "running", "done", "failed")


class Job(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    kind: str = Field(max_length=20)  # process_call|rebuild
    call_id: int | None = Field(default=None, foreign_key="call.id", index=True)
    status: str = Field(default="queued", max_length=10, index=True)
    attempts: int = 0
    max_attempts: int = 3
    progress: float = 0.0
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    locked_by: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
