"""POST/GET calls and jobs over HTTP, on a temporary database."""

from __future__ import annotations

import json

from sqlmodel import Session, func, select

from models import Call, Job, Utterance
from tests.app.factories import transcript

PRICE = "Honestly the price is way more than we budgeted for this year."


def _count(api, model) -> int:
    with Session(api.client.app.state.engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_post_call_stores_call_and_job(api):
    r = api.client.post("/v1/calls", json=transcript("c-1", [PRICE]), headers=api.headers)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"] == "queued" and body["external_id"] == "c-1"
    job = api.client.get(f"/v1/jobs/{body['job_id']}", headers=api.headers).json()
    assert job["status"] == "queued" and job["call_id"] == body["call_id"]
    call = api.client.get(f"/v1/calls/{body['call_id']}", headers=api.headers).json()
    assert call["status"] == "queued"
    assert [u["text"] for u in call["utterances"]][1] == PRICE


def test_repost_same_external_id_never_duplicates(api):
    payload = transcript("c-dup", [PRICE])
    first = api.client.post("/v1/calls", json=payload, headers=api.headers).json()
    again = api.client.post("/v1/calls", json=payload, headers=api.headers)
    assert again.status_code == 200
    assert again.json()["call_id"] == first["call_id"]
    assert again.json()["status"] == "unchanged"
    assert _count(api, Call) == 1 and _count(api, Job) == 1


def test_repost_with_changed_content_replaces_utterances(api):
    first = api.client.post("/v1/calls", json=transcript("c-x", [PRICE]), headers=api.headers)
    changed = transcript("c-x", ["We would need SSO before security signs off."])
    r = api.client.post("/v1/calls", json=changed, headers=api.headers)
    assert r.status_code == 202 and r.json()["status"] == "replaced"
    assert r.json()["call_id"] == first.json()["call_id"]
    assert _count(api, Call) == 1 and _count(api, Utterance) == 2
    texts = [u["text"] for u in api.client.get(
        f"/v1/calls/{r.json()['call_id']}", headers=api.headers).json()["utterances"]]
    assert "SSO" in texts[1]


def test_missing_or_wrong_key_is_401(api):
    assert api.client.post("/v1/calls", json=transcript("a", [PRICE])).status_code == 401
    r = api.client.get("/v1/jobs/1", headers={"Authorization": "Bearer vb_nope"})
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"


def test_workspaces_are_isolated(api):
    posted = api.client.post("/v1/calls", json=transcript("iso", [PRICE]), headers=api.headers)
    other = api.new_key("other-team")
    r = api.client.get(f"/v1/calls/{posted.json()['call_id']}", headers=other)
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    # the same external_id in another workspace is another call
    r2 = api.client.post("/v1/calls", json=transcript("iso", [PRICE]), headers=other)
    assert r2.status_code == 202 and r2.json()["call_id"] != posted.json()["call_id"]


def test_invalid_json_is_4xx_and_writes_nothing(api):
    r = api.client.post("/v1/calls", content=b'{"external_id": "x", "utterances": [',
                        headers={**api.headers, "Content-Type": "application/json"})
    assert 400 <= r.status_code < 500
    assert set(r.json()) == {"error", "message", "detail"}
    assert _count(api, Call) == 0 and _count(api, Job) == 0


def test_bad_field_names_the_field(api):
    bad = transcript("bad", [PRICE])
    bad["utterances"][1]["text"] = 42
    r = api.client.post("/v1/calls", json=bad, headers=api.headers)
    assert r.status_code == 422
    assert "utterances[1]" in json.dumps(r.json()["detail"])
    assert _count(api, Call) == 0


def test_empty_and_non_utf8_bodies_are_rejected(api):
    h = {**api.headers, "Content-Type": "text/plain"}
    assert api.client.post("/v1/calls", content=b"", headers=h).json()["error"] == "empty_body"
    r = api.client.post("/v1/calls", content=b"Dana: hi \xff\xfe there", headers=h)
    assert r.status_code == 400 and r.json()["error"] == "not_utf8"
    assert _count(api, Call) == 0


def test_oversized_body_is_413(db_url, models):
    from tests.app.conftest import _api

    for small in _api(db_url, models, worker_enabled=False, max_body_bytes=2000):
        payload = transcript("big", [PRICE * 40])
        r = small.client.post("/v1/calls", json=payload, headers=small.headers)
        assert r.status_code == 413 and r.json()["error"] == "too_large"


def test_unknown_job_and_call_are_404(api):
    assert api.client.get("/v1/jobs/999", headers=api.headers).status_code == 404
    assert api.client.get("/v1/calls/999", headers=api.headers).status_code == 404


def test_openapi_documents_the_api(api):
    spec = api.client.get("/openapi.json").json()
    for path in ("/v1/calls", "/v1/jobs/{job_id}", "/v1/feed/{kind}", "/v1/clusters/rebuild"):
        assert path in spec["paths"]
    assert api.client.get("/docs").status_code == 200
