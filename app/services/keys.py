"""Listing and revoking a workspace's API keys (only their hashes and prefixes are stored)."""

from __future__ import annotations

from sqlmodel import Session, select

from app.errors import NotFound, VerbatimError
from app.feed_signals import KEYS_CHANGED, announce
from models import ApiKey, Workspace
from models.base import utcnow


def list_keys(*, session: Session, workspace_id: int) -> list[ApiKey]:
    return list(session.exec(select(ApiKey).where(ApiKey.workspace_id == workspace_id)
                             .order_by(ApiKey.id)))


def revoke_key(*, session: Session, workspace_id: int, key_id: int) -> ApiKey:
    """Revokes a key at once (revoking twice is harmless); its holder gets 401 from then on."""
    key = session.get(ApiKey, key_id)
    if key is None or key.workspace_id != workspace_id:
        raise NotFound(f"key {key_id} not found", detail={"key_id": key_id})
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
        announce(session, KEYS_CHANGED, workspace_id)
        session.commit()
    return key


def find_key(*, session: Session, ref: str) -> ApiKey:
    """A key by its id or by the prefix printed when it was made (the CLI's argument)."""
    query = select(ApiKey).where(ApiKey.prefix == ref)
    if ref.isdigit() and len(ref) <= 10:
        query = select(ApiKey).where(ApiKey.id == int(ref))
    rows = session.exec(query).all()
    if not rows:
        raise NotFound(f"no key {ref!r}")
    if len(rows) > 1:
        raise VerbatimError(f"{len(rows)} keys start with {ref!r}: give the key's id",
                            code="ambiguous_key")
    return rows[0]


def workspace_name(*, session: Session, key: ApiKey) -> str:
    workspace = session.get(Workspace, key.workspace_id)
    return workspace.name if workspace else "?"
