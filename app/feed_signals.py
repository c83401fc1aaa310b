"""PostgreSQL notifications that let API processes trust what they remember of keys and feeds.

A transaction that moves a workspace's feed version or revokes one of its keys also sends a
notification on CHANNEL; PostgreSQL delivers it when (and only if) the transaction commits. An
API process listening on CHANNEL (app/feed_hits.py) forgets what it remembered of that workspace,
so its fast path can answer from memory without a round trip per request. SQLite has no
notifications: there the fast path asks the database every time (a local read).

The process that commits the change does not wait for its own notification: its memories forget
the workspace as the commit returns (`after_commit`), so a client that changes something and then
reads the feed from the same process never sees the old answer.
"""

from __future__ import annotations

import weakref
from typing import Protocol

from sqlalchemy import event, text
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

CHANNEL = "verbatim_feed"
FEED_CHANGED, KEYS_CHANGED = "feed", "keys"
_PENDING = "feed_signals.pending"  # session.info: workspaces announced in the open transaction


class Forgetter(Protocol):
    def forget(self, workspace_id: int | None) -> None: ...


_LOCAL: weakref.WeakSet[Forgetter] = weakref.WeakSet()


def hear_locally(memory: Forgetter) -> None:
    """Tells `memory` of this process's own commits as they return."""
    _LOCAL.add(memory)


def stop_hearing_locally(memory: Forgetter) -> None:
    _LOCAL.discard(memory)


def announce(session: Session, what: str, workspace_id: int) -> None:
    """Queues the notification in the session's transaction (PostgreSQL only)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, :payload)"),
                        {"channel": CHANNEL, "payload": f"{what}:{workspace_id}"})
        session.info.setdefault(_PENDING, set()).add(workspace_id)


@event.listens_for(OrmSession, "after_commit")
def _forget_in_this_process(session: OrmSession) -> None:
    for workspace_id in session.info.pop(_PENDING, ()):
        for memory in list(_LOCAL):
            memory.forget(workspace_id)


@event.listens_for(OrmSession, "after_rollback")
def _nothing_to_forget(session: OrmSession) -> None:
    session.info.pop(_PENDING, None)


def parse(payload: str) -> tuple[str, int] | None:
    what, _, workspace = payload.partition(":")
    return (what, int(workspace)) if workspace.isdigit() else None
