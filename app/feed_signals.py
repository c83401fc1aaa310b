"""PostgreSQL notifications that let API processes trust what they remember of keys and feeds.

A transaction that moves a workspace's feed version or revokes one of its keys also sends a
notification on CHANNEL; PostgreSQL delivers it when (and only if) the transaction commits. An
API process listening on CHANNEL (app/feed_hits.py) forgets what it remembered of that workspace,
so its fast path can answer from memory without a round trip per request. SQLite has no
notifications: there the fast path asks the database every time (a local read).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

CHANNEL = "verbatim_feed"
FEED_CHANGED, KEYS_CHANGED = "feed", "keys"


def announce(session: Session, what: str, workspace_id: int) -> None:
    """Queues the notification in the session's transaction (PostgreSQL only)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, :payload)"),
                        {"channel": CHANNEL, "payload": f"{what}:{workspace_id}"})


def parse(payload: str) -> tuple[str, int] | None:
    what, _, workspace = payload.partition(":")
    return (what, int(workspace)) if workspace.isdigit() else None
