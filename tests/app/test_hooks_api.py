"""Signed webhook deliveries: verified, idempotent, replay-protected, atomic replacement."""

from __future__ import annotations

import json
import time

from sqlmodel import Session, func, select

from app.services.hooks import sign
from models import Call, Utterance
from tests.app.factories import transcript


def _secret(api) -> str:
    return api.client.post("/v1/hooks/secret", headers=api.headers).json()["secret"]


def _deliver(api, body: bytes, secret: str, *, ts: int | None = None, source="native",
             signature: str | None = None):
    stamp = str(ts if ts is not None else int(time.time()))
    headers = {"Content-Type": "application/json", "X-Verbatim-Workspace": str(api.workspace_id),
               "X-Verbatim-Timestamp": stamp,
               "X-Verbatim-Signature": signature or sign(secret, stamp, body)}
    return api.client.post(f"/v1/hooks/{source}", content=body, headers=headers)


def _calls(api) -> int:
    with Session(api.client.app.state.engine) as s:
        return s.exec(select(func.count()).select_from(Call)).one()


def test_signed_delivery_is_queued_and_redelivery_is_idempotent(api):
    secret = _secret(api)
    body = json.dumps(transcript("hook-1", ["The price is too high for us."])).encode()
    first = _deliver(api, body, secret)
    assert first.status_code == 202, first.text
    again = _deliver(api, body, secret)
    assert again.status_code == 200 and again.json()["call_id"] == first.json()["call_id"]
    assert _calls(api) == 1


def test_bad_signature_and_stale_timestamp_are_rejected(api):
    secret = _secret(api)
    body = json.dumps(transcript("hook-2", ["Too expensive."])).encode()
    r = _deliver(api, body, secret, signature="sha256=" + "0" * 64)
    assert r.status_code == 401 and r.json()["error"] == "bad_signature"
    r = _deliver(api, body, secret, ts=int(time.time()) - 3600)
    assert r.status_code == 401 and r.json()["error"] == "stale_timestamp"
    tampered = body.replace(b"Too expensive", b"Too cheap")
    r = _deliver(api, tampered, secret, signature=sign(secret, str(int(time.time())), body))
    assert r.status_code == 401
    assert _calls(api) == 0


def test_changed_content_replaces_the_call_atomically(api):
    secret = _secret(api)
    v1 = json.dumps(transcript("hook-3", ["Too expensive.", "We use Gong."])).encode()
    v2 = json.dumps(transcript("hook-3", ["Legal will not sign a three year term."])).encode()
    a = _deliver(api, v1, secret).json()
    b = _deliver(api, v2, secret)
    assert b.status_code == 202 and b.json()["status"] == "replaced"
    assert b.json()["call_id"] == a["call_id"]
    with Session(api.client.app.state.engine) as s:
        texts = [u.text for u in s.exec(select(Utterance).order_by(Utterance.idx))]
    assert len(texts) == 2 and "three year" in texts[1]


def test_unknown_source_is_4xx(api):
    secret = _secret(api)
    r = _deliver(api, b"{}", secret, source="zoomzoom")
    assert r.status_code == 400 and r.json()["error"] == "unknown_source"
