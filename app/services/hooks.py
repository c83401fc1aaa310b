"""Webhook deliveries: HMAC-SHA256 over the timestamp and the raw body, with replay tolerance."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from sqlmodel import Session

from app.errors import NotFound, Unauthorized
from models import Workspace

SIGNATURE_PREFIX = "sha256="


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature a sender puts in X-Verbatim-Signature: sha256=HMAC(secret, ts + '.' + body)."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body,
                   hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()


def rotate_secret(*, session: Session, workspace: Workspace) -> str:
    workspace.webhook_secret = "whsec_" + secrets.token_urlsafe(32)
    session.add(workspace)
    session.commit()
    return workspace.webhook_secret


def verify(*, session: Session, workspace_ref: str | None, timestamp: str | None,
           signature: str | None, body: bytes, tolerance_s: int,
           now: float | None = None) -> Workspace:
    """The workspace whose secret signed this body; raises Unauthorized otherwise."""
    if not workspace_ref or not workspace_ref.isdigit():
        raise Unauthorized("missing X-Verbatim-Workspace header", code="bad_signature",
                           detail={"header": "X-Verbatim-Workspace"})
    workspace = session.get(Workspace, int(workspace_ref))
    if workspace is None or not workspace.webhook_secret:
        raise NotFound("no webhook secret for this workspace", detail={"workspace": workspace_ref})
    if not timestamp or not timestamp.isdigit():
        raise Unauthorized("missing or malformed X-Verbatim-Timestamp", code="bad_signature",
                           detail={"header": "X-Verbatim-Timestamp"})
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > tolerance_s:
        raise Unauthorized(f"timestamp outside the {tolerance_s} s tolerance (replay?)",
                           code="stale_timestamp", detail={"header": "X-Verbatim-Timestamp"})
    expected = sign(workspace.webhook_secret, timestamp, body)
    if not signature or not hmac.compare_digest(expected, signature.strip()):
        raise Unauthorized("signature does not match", code="bad_signature",
                           detail={"header": "X-Verbatim-Signature"})
    return workspace
