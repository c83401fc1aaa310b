"""Webhook deliveries already applied: a replayed delivery id is a no-op, and a delivery
signed earlier than the one a call holds never replaces it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import utcnow


class WebhookDelivery(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("workspace_id", "delivery_id"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    delivery_id: str = Field(max_length=200)
    call_id: int | None = Field(default=None, foreign_key="call.id", index=True)
    signed_at: int  # the signed X-Verbatim-Timestamp (Unix seconds)
    body_sha256: str = Field(max_length=64)
    outcome: str = Field(max_length=12)  # queued|replaced|unchanged|stale
    received_at: datetime = Field(default_factory=utcnow)
