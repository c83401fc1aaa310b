"""Shared column helpers for the SQLModel tables."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Column, LargeBinary


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def json_column() -> Column:
    return Column(JSON, nullable=False, default=list)


def blob_column() -> Column:
    return Column(LargeBinary, nullable=True)
