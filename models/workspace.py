"""Workspaces, their API keys and their rep roster."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import json_column, utcnow


class Workspace(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=200)
    own_domains: list[str] = Field(default_factory=list, sa_column=json_column())
    webhook_secret: str | None = Field(default=None, max_length=128)
    # bumped with every change to the feed's summary tables (app/services/rollups.py): writers
    # take turns on this row, and a cached feed answer of an older version is stale
    feed_version: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class ApiKey(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    prefix: str = Field(index=True, max_length=16)
    key_hash: str = Field(unique=True, max_length=128)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class RosterEntry(SQLModel, table=True):
    """A person known to be on the workspace's own sales team (matched by name or email)."""

    __table_args__ = (UniqueConstraint("workspace_id", "value"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    value: str = Field(max_length=320)


class CategoryExample(SQLModel, table=True):
    """A workspace's own example sentence for a category (new categories are allowed)."""

    __table_args__ = (UniqueConstraint("workspace_id", "category", "text"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    category: str = Field(max_length=40)
    description: str = Field(default="", max_length=300)
    text: str = Field(max_length=500)
