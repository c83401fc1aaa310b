"""Signed webhook deliveries: verified, idempotent, replay-protected, atomic replacement."""

from __future__ import annotations

import json
import time
import uuid

from sqlmodel import Session, func, select

from app.services.hooks import sign
from models import Call, Utterance
from tests.app.factories import transcript


def _secret(api) -> str:
    return api.client.post("/v1/hooks/secret", headers=api.headers).json()["secret"]


def _deliver(api, body: bytes, secret: str, *, ts: int | None = None, source="native",
             signature: str | None = None, delivery: str | None = None,
             workspace: str | None = None):
    stamp = str(ts if ts is not None else int(time.time()))
    headers = {"Content-Type": "application/json",
               "X-Verbatim-Workspace": workspace or str(api.workspace_id),
               "X-Verbatim-Timestamp": stamp,
               "X-Verbatim-Signature": signature or sign(secret, stamp, body),
               "X-Verbatim-Delivery": delivery or uuid.uuid4().hex}
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


def _texts(api) -> list[str]:
    with Session(api.client.app.state.engine) as s:
        return [u.text for u in s.exec(select(Utterance).order_by(Utterance.idx))]


def test_a_replayed_older_version_never_rolls_a_call_back(api):
    secret = _secret(api)
    now = int(time.time())
    v1 = json.dumps(transcript("hook-5", ["Too expensive."])).encode()
    v2 = json.dumps(transcript("hook-5", ["Legal will not sign a three year term."])).encode()
    assert _deliver(api, v1, secret, ts=now - 60, delivery="d1").status_code == 202
    assert _deliver(api, v2, secret, ts=now - 30, delivery="d2").json()["status"] == "replaced"
    same_id = _deliver(api, v1, secret, ts=now - 60, delivery="d1")
    assert same_id.status_code == 200 and same_id.json()["status"] == "unchanged"
    new_id = _deliver(api, v1, secret, ts=now - 60, delivery="d1-again")
    assert new_id.status_code == 200 and new_id.json()["status"] == "stale"
    assert "three year" in _texts(api)[1]


def test_an_old_body_replayed_in_the_same_second_is_stale(api):
    secret = _secret(api)
    now = int(time.time())
    v1 = json.dumps(transcript("hook-6", ["Too expensive."])).encode()
    v2 = json.dumps(transcript("hook-6", ["We already use Gong."])).encode()
    _deliver(api, v1, secret, ts=now, delivery="a")
    assert _deliver(api, v2, secret, ts=now, delivery="b").json()["status"] == "replaced"
    assert _deliver(api, v1, secret, ts=now, delivery="c").json()["status"] == "stale"
    assert "Gong" in _texts(api)[1]
    v3 = json.dumps(transcript("hook-6", ["Too expensive."])).encode()  # a real revert, later
    assert _deliver(api, v3, secret, ts=now + 1, delivery="d").json()["status"] == "replaced"


def test_a_delivery_needs_an_id(api):
    secret = _secret(api)
    body = json.dumps(transcript("hook-7", ["Too expensive."])).encode()
    stamp = str(int(time.time()))
    r = api.client.post("/v1/hooks/native", content=body, headers={
        "X-Verbatim-Workspace": str(api.workspace_id), "X-Verbatim-Timestamp": stamp,
        "X-Verbatim-Signature": sign(secret, stamp, body)})
    assert r.status_code == 400 and r.json()["error"] == "missing_delivery_id"
    assert _calls(api) == 0


def test_unknown_unsigned_and_wrongly_signed_workspaces_look_the_same(api):
    body = json.dumps(transcript("hook-8", ["Too expensive."])).encode()
    no_secret = _deliver(api, body, "whsec_guess")  # the workspace has no secret yet
    secret = _secret(api)
    wrong = _deliver(api, body, "whsec_guess")
    unknown = _deliver(api, body, secret, workspace="424242")
    huge = _deliver(api, body, secret, workspace="99999999999999999999")
    answers = {(r.status_code, r.text) for r in (no_secret, wrong, unknown, huge)}
    assert len(answers) == 1 and no_secret.status_code == 401


def test_headers_are_checked_before_the_body_is_read(api):
    """An unsigned sender announcing a huge body is refused as unsigned (401), before any
    read: the size check (413) comes only after the headers pass."""
    secret = _secret(api)
    limit = api.client.app.state.settings.max_body_bytes
    stamp = str(int(time.time()))
    headers = {"X-Verbatim-Workspace": "424242", "X-Verbatim-Timestamp": stamp,
               "X-Verbatim-Signature": "sha256=" + "0" * 64, "X-Verbatim-Delivery": "x",
               "Content-Length": str(limit + 1)}
    r = api.client.post("/v1/hooks/native", content=b"{}", headers=headers)
    assert r.status_code == 401
    headers["X-Verbatim-Workspace"] = str(api.workspace_id)
    headers["X-Verbatim-Signature"] = sign(secret, stamp, b"{}")
    r = api.client.post("/v1/hooks/native", content=b"{}", headers=headers)
    assert r.status_code == 413
