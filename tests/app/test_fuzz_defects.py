"""The defects schema fuzzing found, one test each, on SQLite and PostgreSQL: ids beyond any
column, NUL bytes, deeply nested JSON, wrong types in batch items, key revocation, blank
labels, and an OpenAPI document that holds every schema it references."""

from __future__ import annotations

import json
import re
import time
import uuid

import pytest
from sqlmodel import Session, select

from app.services.hooks import sign
from models import Call, Participant, RosterEntry, Utterance
from tests.app.factories import transcript

pytestmark = pytest.mark.slow

HUGE_IDS = ["2147483648", "9223372036854775808", "99999999999999999999"]


@pytest.mark.parametrize("huge", HUGE_IDS)
def test_an_id_beyond_any_column_is_a_4xx_on_every_api_route(api, huge):
    c, h = api.client, api.headers
    answers = [
        c.get(f"/v1/calls/{huge}", headers=h), c.get(f"/v1/calls/{huge}/mentions", headers=h),
        c.put(f"/v1/calls/{huge}/roles", headers=h, json={"speaker": "A", "role": "rep"}),
        c.get(f"/v1/calls/{huge}/roles", headers=h),
        c.post(f"/v1/calls/{huge}/roles/swap", headers=h),
        c.get(f"/v1/jobs/{huge}", headers=h), c.get(f"/v1/clusters/{huge}", headers=h),
        c.patch(f"/v1/clusters/{huge}", headers=h, json={"label": "x"}),
        c.get(f"/v1/clusters/{huge}/mentions", headers=h),
        c.get(f"/v1/clusters/{huge}/brief.md", headers=h),
        c.get(f"/v1/export/quotes.csv?cluster_id={huge}", headers=h),
        c.delete(f"/v1/keys/{huge}", headers=h),
        c.get(f"/v1/calls?offset={huge}", headers=h),
    ]
    assert [r.status_code for r in answers] == [422] * len(answers)
    assert all(r.json()["error"] == "invalid_request" for r in answers)


def _sign_in(api) -> None:
    page = api.client.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    key = api.headers["Authorization"].removeprefix("Bearer ")
    r = api.client.post("/login", data={"api_key": key, "csrf": csrf, "next": "/"},
                        follow_redirects=False)
    assert r.status_code == 303


@pytest.mark.parametrize("huge", HUGE_IDS)
def test_an_id_beyond_any_column_is_a_4xx_on_every_page(api, huge):
    _sign_in(api)
    c = api.client
    for path in (f"/calls/{huge}", f"/clusters/{huge}", f"/export/clusters/{huge}/brief.md",
                 f"/export/quotes.csv?cluster={huge}", f"/?job={huge}"):
        r = c.get(path, follow_redirects=False)
        assert r.status_code < 500, path
        assert r.status_code in (200, 404, 422) and (r.status_code == 200) == ("job=" in path)
    for path in (f"/calls/{huge}/roles", f"/calls/{huge}/roles/swap"):
        r = c.post(path, data={"speaker": "A", "role": "rep"}, follow_redirects=False)
        assert r.status_code in (403, 404, 422), path


def test_a_workspace_header_beyond_any_column_is_a_401(api):
    for ref in HUGE_IDS + ["-1", "0", "1e9", "abc"]:
        stamp = str(int(time.time()))
        r = api.client.post("/v1/hooks/native", content=b"{}", headers={
            "X-Verbatim-Workspace": ref, "X-Verbatim-Timestamp": stamp,
            "X-Verbatim-Delivery": uuid.uuid4().hex,
            "X-Verbatim-Signature": sign("whsec_x", stamp, b"{}")})
        assert r.status_code == 401, ref


def test_nul_bytes_are_dropped_from_stored_text_names_metadata_and_filters(api):
    body = transcript("nul-1", ["Too expen\u0000sive for us."], account="Ac\u0000me",
                      tags=["q\u00004"], customer="Jor\u0000ge")
    body["title"] = "Disco\u0000very"
    r = api.client.post("/v1/calls", headers=api.headers, json=body)
    assert r.status_code == 202, r.text
    r = api.client.put("/v1/roster", headers=api.headers, json={"members": ["Da\u0000na"]})
    assert r.status_code == 202
    for path in ("/v1/feed/objections?account=Ac%00me&tags=q%004",
                 "/v1/export/quotes.csv?account=%00",
                 "/v1/clusters?kind=objection", "/v1/search?q=pri%00ce"):
        assert api.client.get(path, headers=api.headers).status_code in (200, 422), path
    with Session(api.client.app.state.engine) as s:
        call = s.exec(select(Call)).one()
        texts = [u.text for u in s.exec(select(Utterance))]
        names = [p.name for p in s.exec(select(Participant))]
        roster = [e.value for e in s.exec(select(RosterEntry))]
    assert call.account == "Acme" and "\u0000" not in (call.title or "")
    assert len(call.tags) == 1  # JSON keeps it escaped, which both databases accept
    assert any("expen" in t for t in texts) and not any("\u0000" in t for t in texts)
    assert not any("\u0000" in n for n in names) and roster == ["dana"]
    assert "\u0000" not in call.raw_payload


def test_deeply_nested_json_is_a_400(api):
    deep = b'{"calls": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    for path in ("/v1/calls:batch", "/v1/calls"):
        r = api.client.post(path, headers={**api.headers, "Content-Type": "application/json"},
                            content=deep)
        assert 400 <= r.status_code < 500, (path, r.status_code)
    r = api.client.post("/v1/calls:batch", headers={**api.headers,
                        "Content-Type": "application/json"}, content=deep)
    assert r.status_code == 400 and r.json()["error"] == "invalid_json"


def test_wrong_types_in_batch_items_are_422_items(api):
    good = transcript("batch-ok", ["Too expensive."])
    items = [{**transcript("batch-1", ["x"]), "format": 123}, 5, "text", good,
             {**transcript("batch-2", ["y"]), "utterances": "nope"}]
    r = api.client.post("/v1/calls:batch", headers=api.headers, json={"calls": items})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert results[0]["error"] == "invalid_field"
    assert all("error" in results[i] for i in (0, 1, 2, 4))
    assert results[3]["status"] == "queued"


def test_a_revoked_key_stops_working_at_once(api):
    other = api.new_key("acme")
    keys = api.client.get("/v1/keys", headers=api.headers).json()["items"]
    assert len(keys) == 2 and all(k["revoked_at"] is None for k in keys)
    assert all("hash" not in json.dumps(k) for k in keys)
    newest = max(k["id"] for k in keys)
    r = api.client.delete(f"/v1/keys/{newest}", headers=api.headers)
    assert r.status_code == 200 and r.json()["revoked_at"] is not None
    assert api.client.get("/v1/calls", headers=other).status_code == 401
    assert api.client.get("/v1/calls", headers=api.headers).status_code == 200
    assert api.client.delete(f"/v1/keys/{newest}", headers=api.headers).status_code == 200


def test_a_key_of_another_workspace_cannot_be_revoked(api):
    other = api.new_key("globex")
    theirs = api.client.get("/v1/keys", headers=other).json()["items"][0]["id"]
    assert api.client.delete(f"/v1/keys/{theirs}", headers=api.headers).status_code == 404
    assert api.client.get("/v1/calls", headers=other).status_code == 200


@pytest.mark.parametrize("label", ["", "   ", "\t\n"])
def test_a_blank_cluster_label_is_refused(api, label):
    r = api.client.patch("/v1/clusters/1", headers=api.headers, json={"label": label})
    assert r.status_code == 422 and r.json()["error"] == "invalid_request"


def _refs(node) -> set[str]:
    if isinstance(node, dict):
        own = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return own.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def test_the_openapi_document_references_only_what_it_holds(api):
    doc = api.client.get("/openapi.json").json()
    held = {f"#/components/schemas/{name}" for name in doc["components"]["schemas"]}
    assert _refs(doc) <= held
    assert {"NativeParticipant", "NativeUtterance", "Error"} <= set(doc["components"]["schemas"])
    for path, item in doc["paths"].items():
        for method, op in item.items():
            for status in ("400", "401", "404", "422"):
                assert status in op["responses"], (method, path, status)
    r = api.client.get("/v1/calls/abc", headers=api.headers)
    error = doc["components"]["schemas"]["Error"]
    assert r.status_code == 422 and set(r.json()) == set(error["required"])


def test_a_405_names_the_allowed_methods(api):
    r = api.client.delete("/v1/calls", headers=api.headers)
    assert r.status_code == 405 and r.headers["allow"] == "GET, POST"
    r = api.client.post("/v1/jobs/1", headers=api.headers)
    assert r.status_code == 405 and r.headers["allow"] == "GET"
