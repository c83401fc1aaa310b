"""What users taught the workspace about who is on which side."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import utcnow


class RoleCorrection(SQLModel, table=True):
    """A user's role for a speaker: on one call (call_id set), or for that person in every call
    (call_id None, matched by name key; generic names like "Zoom user" are never learned)."""

    __table_args__ = (UniqueConstraint("workspace_id", "call_id", "name_key"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    call_id: int | None = Field(default=None, foreign_key="call.id", index=True)
    name_key: str = Field(max_length=300, index=True)
    speaker: str = Field(max_length=300)  # as written where the correction was made
    role: str = Field(max_length=10)  # rep|customer
    created_at: datetime = Field(default_factory=utcnow)
