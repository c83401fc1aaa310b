"""Shared column helpers for the SQLModel tables."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Column, LargeBinary


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """Datetimes are stored in UTC; a naive one is taken to be UTC already."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def json_column() -> Column:
    return Column(JSON, nullable=False, default=list)


def blob_column() -> Column:
    return Column(LargeBinary, nullable=True)


# ids are 32-bit integers on every database (PostgreSQL's SERIAL): anything larger names no row
MAX_ID = 2**31 - 1
