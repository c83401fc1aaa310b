"""Every transcript format over HTTP: by Content-Type, by ?format=, as an upload, in a batch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from models import Call, Job

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "formats"
TYPES = {".vtt": "text/vtt", ".srt": "application/x-subrip", ".txt": "text/plain",
         ".json": "application/json"}
ALL = sorted(p.name for p in FIXTURES.iterdir())


def _turns(api, call_id: int) -> list[tuple]:
    call = api.client.get(f"/v1/calls/{call_id}", headers=api.headers).json()
    return [(u["text"], u["start_ms"], u["end_ms"]) for u in call["utterances"]]


@pytest.mark.parametrize("name", ALL)
def test_each_format_posts_by_content_type(api, name):
    path = FIXTURES / name
    r = api.client.post(f"/v1/calls?external_id=fmt-{name}", content=path.read_bytes(),
                        headers={**api.headers, "Content-Type": TYPES[path.suffix]})
    assert r.status_code == 202, r.text
    native = api.client.post("/v1/calls?external_id=fmt-native",
                             content=(FIXTURES / "native.json").read_bytes(),
                             headers={**api.headers, "Content-Type": "application/json"})
    got, want = _turns(api, r.json()["call_id"]), _turns(api, native.json()["call_id"])
    assert [t[0] for t in got] == [t[0] for t in want]
    # formats that carry times carry the same ones (text formats have no end times)
    assert [t[1] for t in got if t[1] is not None] == [
        w[1] for t, w in zip(got, want, strict=True) if t[1] is not None]
    assert [t[2] for t in got if t[2] is not None] == [
        w[2] for t, w in zip(got, want, strict=True) if t[2] is not None]


def test_multipart_upload_and_query_metadata(api):
    data = (FIXTURES / "zoom.vtt").read_bytes()
    r = api.client.post("/v1/calls?external_id=up-1&account=Acme&outcome=lost&tags=q4",
                        files={"file": ("meeting.vtt", data, "application/octet-stream")},
                        headers=api.headers)
    assert r.status_code == 202, r.text
    call = api.client.get(f"/v1/calls/{r.json()['call_id']}", headers=api.headers).json()
    assert call["source_format"] == "vtt"
    assert (call["account"], call["outcome"], call["tags"]) == ("Acme", "lost", ["q4"])


def test_without_external_id_the_content_hash_is_the_key(api):
    data = (FIXTURES / "transcript.srt").read_bytes()
    h = {**api.headers, "Content-Type": "application/x-subrip"}
    a = api.client.post("/v1/calls", content=data, headers=h).json()
    b = api.client.post("/v1/calls", content=data, headers=h).json()
    assert a["call_id"] == b["call_id"] and b["status"] == "unchanged"
    assert a["external_id"].startswith("sha256:")


def test_unknown_format_is_415(api):
    r = api.client.post("/v1/calls", content=json.dumps({"hello": "world"}).encode(),
                        headers={**api.headers, "Content-Type": "application/json"})
    assert r.status_code in (415, 422) and r.json()["error"] in ("unknown_format",
                                                                "invalid_field")


def test_batch_reports_each_item(api):
    good = json.loads((FIXTURES / "native.json").read_text())
    gong = json.loads((FIXTURES / "gong.json").read_text())
    gong_item = {**gong, "format": "gong"}
    bad = {"external_id": "broken", "utterances": "nope"}
    r = api.client.post("/v1/calls:batch", json={"calls": [good, bad, gong_item]},
                        headers=api.headers)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [("error" in x) for x in results] == [False, True, False]
    assert results[1]["error"].startswith("invalid")
    too_many = api.client.post("/v1/calls:batch", json={"calls": [good] * 101},
                               headers=api.headers)
    assert too_many.status_code == 400 and too_many.json()["error"] == "too_many_calls"


ISSUE_NOTES = """Weekly sync - Relay x Northwind
VIEW RECORDING - 36 mins (No highlights)

ACTION ITEM: Send the pricing sheet to Dana
We agreed the pilot starts next week and that pricing is sent over by Friday.

ACTION ITEM: Book the security review
Security asked for the SOC 2 report before the pilot starts. Everyone agreed it is the blocker.

ACTION ITEM: Confirm the budget with finance
Finance has not approved the budget yet; the champion expects it in January.
"""


@pytest.mark.parametrize("query", ["", "?format=text"])
def test_an_unreadable_text_is_422_naming_what_was_tried_and_stores_nothing(api, query):
    r = api.client.post(f"/v1/calls{query}", content=ISSUE_NOTES.encode(),
                        headers={**api.headers, "Content-Type": "text/plain"})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "unreadable" and "?format=" in body["message"]
    assert "ACTION ITEM" in body["detail"]["tried"]["text"]
    with Session(api.client.app.state.engine) as s:
        assert s.exec(select(func.count()).select_from(Call)).one() == 0
        assert s.exec(select(func.count()).select_from(Job)).one() == 0


def test_a_notetaker_export_is_read_whole_and_can_be_forced(api):
    data = (FIXTURES / "fathom.txt").read_bytes()
    for query, fmt in (("", "fathom"), ("&format=fathom", "fathom")):
        r = api.client.post(f"/v1/calls?external_id=fathom{query}", content=data,
                            headers={**api.headers, "Content-Type": "text/plain"})
        assert r.status_code in (200, 202), r.text
        call = api.client.get(f"/v1/calls/{r.json()['call_id']}", headers=api.headers).json()
        assert call["source_format"] == fmt and len(call["utterances"]) == 12
