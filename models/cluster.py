"""Clusters of mentions, their members and the history of splits and merges."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from models.base import blob_column, json_column, utcnow


class Cluster(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    kind: str = Field(max_length=12, index=True)
    label: str = Field(max_length=300)
    label_is_custom: bool = False
    keywords: list[str] = Field(default_factory=list, sa_column=json_column())
    category: str | None = Field(default=None, max_length=40)
    centroid: bytes | None = Field(default=None, sa_column=blob_column())
    size: int = 0
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ClusterMember(SQLModel, table=True):
    # a theme's members in quote order: its best quotes are the first few rows read
    __table_args__ = (Index("ix_clustermember_ranked", "cluster_id", "lead"),)
    mention_id: int = Field(foreign_key="mention.id", primary_key=True)
    cluster_id: int = Field(foreign_key="cluster.id")
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    similarity: float = 0.0  # cosine to the theme's centroid
    # the member's place in quote order (app/services/feed.py, quote_lead); no default, so a
    # writer that forgets it fails on the NOT NULL instead of putting the member last
    lead: float


class ClusterEvent(SQLModel, table=True):
    """What a rebuild did to a cluster: created, kept, split, merged or retired."""

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    job_id: int | None = Field(default=None, foreign_key="job.id")
    cluster_id: int = Field(foreign_key="cluster.id", index=True)
    event: str = Field(max_length=12)
    related: list[int] = Field(default_factory=list, sa_column=json_column())
    created_at: datetime = Field(default_factory=utcnow)
