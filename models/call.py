"""Calls, their participants and their utterances."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import json_column, utcnow


class Call(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("workspace_id", "external_id"),
        # the feed page counts calls waiting to be processed without reading their payloads
        Index("ix_call_workspace_status", "workspace_id", "status"),
        # the feed page's filter choices, read from the index alone
        Index("ix_call_workspace_account", "workspace_id", "account"),
        Index("ix_call_workspace_stage", "workspace_id", "deal_stage"),
        # the workspace's lost rate: won and lost calls counted from the index alone
        Index("ix_call_workspace_outcome", "workspace_id", "outcome"),
    )
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    external_id: str = Field(max_length=300)
    content_hash: str = Field(max_length=64)
    title: str | None = Field(default=None, max_length=500)
    started_at: datetime | None = Field(default=None, index=True)
    account: str | None = Field(default=None, max_length=300)
    deal_stage: str | None = Field(default=None, max_length=100)
    outcome: str | None = Field(default=None, max_length=10)
    tags: list[str] = Field(default_factory=list, sa_column=json_column())
    source_format: str = Field(default="native", max_length=20)
    raw_payload: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="queued", max_length=20)  # queued|processing|processed|failed
    # the least confident participant's role confidence: a call under 0.7 has unsure roles
    role_confidence: float = 0.0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Participant(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    call_id: int = Field(foreign_key="call.id", index=True)
    name: str = Field(max_length=300)
    email: str | None = Field(default=None, max_length=320)
    declared_role: str | None = Field(default=None, max_length=10)
    role: str = Field(default="unknown", max_length=10)  # rep|customer|unknown
    role_source: str = Field(default="heuristic", max_length=12)
    role_confidence: float = 0.0


class Utterance(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    call_id: int = Field(foreign_key="call.id", index=True)
    idx: int
    speaker: str = Field(max_length=300)
    role: str = Field(default="unknown", max_length=10)
    start_ms: int | None = None
    end_ms: int | None = None
    text: str = Field(sa_column=Column(Text, nullable=False))
