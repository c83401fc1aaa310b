"""read_snapshot (app/db.py): one snapshot while it lasts, and a session that writes as before."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from app.db import PendingWrites, read_snapshot, session_scope
from app.services.workspaces import get_or_create_workspace
from models import Workspace


def _workspaces(session: Session) -> int:
    return session.exec(select(func.count(Workspace.id))).one()


def _add_workspace(engine, name: str) -> None:
    with session_scope(engine) as writer:
        get_or_create_workspace(session=writer, name=name)


def test_a_snapshot_holds_what_others_commit_until_it_ends(engine):
    """Commits by another session are not seen inside a snapshot (nor inside one nested in it),
    and are seen once it ends."""
    with Session(engine, expire_on_commit=False) as session:
        _workspaces(session)  # a transaction begun before, as a request's key look-up begins one
        with read_snapshot(session):
            first = _workspaces(session)
            _add_workspace(engine, "committed-meanwhile")
            with read_snapshot(session):
                assert _workspaces(session) == first
            _add_workspace(engine, "committed-after-the-nested-one")
            assert _workspaces(session) == first
        assert _workspaces(session) == first + 2


def test_a_session_writes_after_its_snapshot(engine):
    """The snapshot's connection goes back to the pool as it came (PostgreSQL: read-only and
    repeatable read are the snapshot's alone): the session, and the pool's next user, write."""
    with Session(engine, expire_on_commit=False) as session:
        with read_snapshot(session):
            _workspaces(session)
        get_or_create_workspace(session=session, name="written-after")
        session.commit()
    _add_workspace(engine, "written-by-the-next")
    with Session(engine) as session:
        assert _workspaces(session) == 2


def test_a_write_inside_a_snapshot_fails(engine):
    """A snapshot only reads: a write inside is refused (PostgreSQL: a read-only transaction,
    SQLite: query_only, which it turns off again on the way out)."""
    with Session(engine, expire_on_commit=False) as session:
        with pytest.raises(DBAPIError), read_snapshot(session):
            get_or_create_workspace(session=session, name="written-inside")
        get_or_create_workspace(session=session, name="written-after")
        session.commit()
    with Session(engine) as session:
        assert _workspaces(session) == 1


def test_a_snapshot_refuses_to_commit_pending_changes(engine):
    """Entering a snapshot would commit what the session holds: it raises instead."""
    with Session(engine, expire_on_commit=False) as session:
        session.add(Workspace(name="pending"))
        with pytest.raises(PendingWrites), read_snapshot(session):
            pass
    with Session(engine) as session:
        assert _workspaces(session) == 0
