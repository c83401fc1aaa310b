"""Workspaces, API keys and the rep roster."""

from __future__ import annotations

from sqlmodel import Session, select

from app.errors import Unauthorized
from app.security import hash_key, key_prefix, new_api_key
from models import ApiKey, RosterEntry, Workspace


def get_or_create_workspace(*, session: Session, name: str) -> Workspace:
    workspace = session.exec(select(Workspace).where(Workspace.name == name)).first()
    if workspace is None:
        workspace = Workspace(name=name)
        session.add(workspace)
        session.flush()
    return workspace


def create_api_key(*, session: Session, workspace: Workspace) -> str:
    """Stores the hash of a new key and returns the key itself (shown once)."""
    key = new_api_key()
    session.add(ApiKey(workspace_id=workspace.id, prefix=key_prefix(key), key_hash=hash_key(key)))
    session.flush()
    return key


def authenticate(*, session: Session, key: str) -> Workspace:
    row = session.exec(
        select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None))
    ).first()
    if row is None:
        raise Unauthorized("invalid or revoked API key")
    workspace = session.get(Workspace, row.workspace_id)
    if workspace is None:
        raise Unauthorized("invalid or revoked API key")
    return workspace


def roster(*, session: Session, workspace_id: int) -> list[str]:
    rows = session.exec(select(RosterEntry).where(RosterEntry.workspace_id == workspace_id))
    return sorted(r.value for r in rows)
