"""Mentions: exact quotes of objections, questions and pain phrases."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from models.base import blob_column, json_column, utcnow


class Mention(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    call_id: int = Field(foreign_key="call.id", index=True)
    utterance_id: int = Field(foreign_key="utterance.id", index=True)
    kind: str = Field(max_length=12, index=True)  # objection|question|pain
    category: str | None = Field(default=None, max_length=40)
    confidence: float = 0.0
    text: str = Field(sa_column=Column(Text, nullable=False))
    start_char: int
    end_char: int
    start_ms: int | None = None
    speaker: str = Field(max_length=300)
    context: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    key_phrases: list[str] = Field(default_factory=list, sa_column=json_column())
    embedding: bytes | None = Field(default=None, sa_column=blob_column())
    created_at: datetime = Field(default_factory=utcnow)
