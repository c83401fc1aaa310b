"""Webhook deliveries: HMAC-SHA256 over the timestamp and the raw body, with replay tolerance.

Every header is checked before the body is read, and an unknown workspace, a workspace
without a secret and a wrong signature all get the same answer. Each delivery carries an id:
a replayed id is a no-op, and a delivery signed earlier than the one a call already holds
never replaces it (a replayed old version cannot roll a call back).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.errors import Unauthorized, VerbatimError
from app.services.calls import ingest
from app.services.ingest import limits_of
from app.settings import Settings
from models import Call, Job, WebhookDelivery, Workspace
from models.base import MAX_ID
from pipelines.formats import parse
from pipelines.types import CallMeta

SIGNATURE_PREFIX = "sha256="
_SIGNATURE = re.compile(r"sha256=[0-9a-f]{64}")
_DELIVERY_ID = re.compile(r"[A-Za-z0-9._:-]{1,200}")


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


@dataclass(frozen=True)
class SignedHeaders:
    workspace_id: int | None  # None when the header names no possible workspace
    timestamp: int
    signature: str
    delivery_id: str


def _bad_signature() -> Unauthorized:
    return Unauthorized("signature does not match", code="bad_signature",
                        detail={"header": "X-Verbatim-Signature"})


def check_headers(*, workspace_ref: str | None, timestamp: str | None, signature: str | None,
                  delivery_id: str | None, tolerance_s: int,
                  now: float | None = None) -> SignedHeaders:
    """What can be checked before the body is read."""
    if not delivery_id or not _DELIVERY_ID.fullmatch(delivery_id):
        raise VerbatimError("X-Verbatim-Delivery needs a delivery id (1 to 200 of A-Z a-z "
                            "0-9 . _ : -), the same on every retry of a delivery",
                            code="missing_delivery_id", detail={"header": "X-Verbatim-Delivery"})
    if not timestamp or not timestamp.isdigit() or len(timestamp) > 12:
        raise Unauthorized("missing or malformed X-Verbatim-Timestamp", code="bad_signature",
                           detail={"header": "X-Verbatim-Timestamp"})
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > tolerance_s:
        raise Unauthorized(f"timestamp outside the {tolerance_s} s tolerance (replay?)",
                           code="stale_timestamp", detail={"header": "X-Verbatim-Timestamp"})
    if not signature or not _SIGNATURE.fullmatch(signature.strip()):
        raise _bad_signature()
    ref = (workspace_ref or "").strip()
    workspace_id = int(ref) if ref.isdigit() and len(ref) <= 10 and 0 < int(ref) <= MAX_ID \
        else None
    return SignedHeaders(workspace_id=workspace_id, timestamp=int(timestamp),
                         signature=signature.strip(), delivery_id=delivery_id)


def signing_workspace(*, session: Session, signed: SignedHeaders) -> Workspace:
    """The workspace named by the headers, when it has a secret; the same 401 otherwise."""
    workspace = session.get(Workspace, signed.workspace_id) if signed.workspace_id else None
    if workspace is None or not workspace.webhook_secret:
        raise _bad_signature()
    return workspace


def verify_body(*, workspace: Workspace, signed: SignedHeaders, body: bytes) -> None:
    expected = sign(workspace.webhook_secret or "", str(signed.timestamp), body)
    if not hmac.compare_digest(expected, signed.signature):
        raise _bad_signature()


@dataclass(frozen=True)
class DeliveryResult:
    call: Call
    job: Job | None
    status: str  # queued|replaced|unchanged|stale


def receive(*, session: Session, workspace_id: int, signed: SignedHeaders, body: bytes,
            content_type: str | None, fmt: str | None, settings: Settings) -> DeliveryResult:
    """Stores a verified delivery once; nothing is written when parsing fails."""
    conv = parse(body, content_type=content_type, fmt=fmt, meta=CallMeta(),
                 limits=limits_of(settings))
    seen = _delivery(session=session, workspace_id=workspace_id, delivery_id=signed.delivery_id)
    if seen is not None:
        return _replayed(session=session, seen=seen)
    record = WebhookDelivery(workspace_id=workspace_id, delivery_id=signed.delivery_id,
                             signed_at=signed.timestamp, outcome="stale",
                             body_sha256=hashlib.sha256(body).hexdigest())
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:  # the same delivery, arriving twice at the same moment
        seen = _delivery(session=session, workspace_id=workspace_id,
                         delivery_id=signed.delivery_id)
        if seen is None:
            raise
        return _replayed(session=session, seen=seen)
    existing = _call(session=session, workspace_id=workspace_id,
                     external_id=conv.meta.external_id)
    if existing is not None and _superseded(session=session, call=existing, record=record):
        record.call_id = existing.id
        session.commit()
        return DeliveryResult(call=existing, job=None, status="stale")
    raw = body.decode("utf-8-sig", errors="replace")
    result = ingest(session=session, workspace_id=workspace_id, conv=conv, raw=raw)
    status = "replaced" if result.replaced else ("queued" if result.created else "unchanged")
    record.call_id, record.outcome = result.call.id, status
    session.add(record)
    session.commit()
    return DeliveryResult(call=result.call, job=result.job, status=status)


def _delivery(*, session: Session, workspace_id: int, delivery_id: str) -> WebhookDelivery | None:
    return session.exec(select(WebhookDelivery).where(
        WebhookDelivery.workspace_id == workspace_id,
        WebhookDelivery.delivery_id == delivery_id)).first()


def _replayed(*, session: Session, seen: WebhookDelivery) -> DeliveryResult:
    call = session.get(Call, seen.call_id) if seen.call_id else None
    if call is None:
        raise VerbatimError("this delivery id was already received", code="duplicate_delivery",
                            detail={"header": "X-Verbatim-Delivery"})
    return DeliveryResult(call=call, job=None, status="unchanged")


def _call(*, session: Session, workspace_id: int, external_id: str | None) -> Call | None:
    if not external_id:  # a content-derived id: a different version is a different call
        return None
    return session.exec(select(Call).where(Call.workspace_id == workspace_id,
                                           Call.external_id == external_id)).first()


def _superseded(*, session: Session, call: Call, record: WebhookDelivery) -> bool:
    """Signed earlier than the delivery the call holds, or an old body replayed in the same
    second as a newer one."""
    applied = session.exec(select(WebhookDelivery).where(
        WebhookDelivery.call_id == call.id,
        WebhookDelivery.outcome.in_(("queued", "replaced", "unchanged")))
        .order_by(WebhookDelivery.signed_at.desc(), WebhookDelivery.id.desc())).all()
    if not applied:
        return False
    latest = applied[0]
    if record.signed_at != latest.signed_at:
        return record.signed_at < latest.signed_at
    return any(d.body_sha256 == record.body_sha256 for d in applied[1:]
               if d.signed_at == record.signed_at and d.body_sha256 != latest.body_sha256)
