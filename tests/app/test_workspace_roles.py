"""A workspace of recorded calls (Zoom WebVTT; no emails, no roster) posted one at a time:
every speaker ends on the right side, and early calls are corrected when evidence arrives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

WORKSPACE = Path(__file__).parent.parent / "fixtures" / "workspace"
LABELS: dict[str, dict[str, str]] = json.loads((WORKSPACE / "labels.json").read_text())
# Prospect-led calls the conversation pattern alone reads wrong, then the rest.
HARD_FIRST = ["c13-dmitri-saas.vtt", "c12-yuki-closing.vtt"]
NATURAL = sorted(LABELS)


def post(api, name: str) -> int:
    r = api.client.post(f"/v1/calls?external_id={name}", content=(WORKSPACE / name).read_bytes(),
                        headers={**api.headers, "Content-Type": "text/vtt"})
    assert r.status_code == 202, r.text
    return r.json()["call_id"]


def roles_of(api, call_id: int) -> dict[str, str]:
    r = api.client.get(f"/v1/calls/{call_id}/roles", headers=api.headers)
    assert r.status_code == 200
    return {p["name"]: p["role"] for p in r.json()["participants"]}


def mention_speakers(api, call_id: int) -> set[str]:
    r = api.client.get(f"/v1/calls/{call_id}/mentions", headers=api.headers)
    return {m["speaker"] for m in r.json()}


def assert_all_right(api, ids: dict[str, int]) -> None:
    wrong = {name: roles_of(api, cid) for name, cid in ids.items()
             if roles_of(api, cid) != LABELS[name]}
    assert wrong == {}
    for name, cid in ids.items():
        customers = {s for s, role in LABELS[name].items() if role == "customer"}
        assert mention_speakers(api, cid) <= customers, name


def test_calls_posted_one_at_a_time_end_with_every_speaker_right(api):
    ids = {}
    for name in NATURAL:
        ids[name] = post(api, name)
        api.worker_run()
    assert_all_right(api, ids)
    r = api.client.get(f"/v1/calls/{ids['c02-zoom-roofing.vtt']}/roles", headers=api.headers)
    people = {p["name"]: p for p in r.json()["participants"]}
    assert people["Zoom user"]["role"] == "customer"  # kept as written, never "recurring"
    assert people["Jordan Blake"]["source"] == "recurrence"
    assert r.json()["unsure"] is False


def test_early_calls_are_wrong_until_recurrence_arrives_then_reprocessed(api):
    first = HARD_FIRST[0]
    ids = {first: post(api, first)}
    api.worker_run()
    before = roles_of(api, ids[first])
    assert before != LABELS[first]  # Dmitri describes his own product: the pattern is fooled
    assert "Dmitri Volkov" not in mention_speakers(api, ids[first])
    for name in HARD_FIRST[1:] + [n for n in NATURAL if n not in HARD_FIRST]:
        ids[name] = post(api, name)
        api.worker_run()
    assert_all_right(api, ids)
    assert "Dmitri Volkov" in mention_speakers(api, ids[first])
    assert "Jordan Blake" not in mention_speakers(api, ids[first])


def test_a_correction_teaches_the_workspace_and_unsure_calls_can_be_left_out(api):
    ids = {name: post(api, name) for name in HARD_FIRST}
    api.worker_run()
    r = api.client.get(f"/v1/calls/{ids[HARD_FIRST[0]]}/roles", headers=api.headers)
    assert r.json()["unsure"] is True  # pattern only: visible as unsure
    r = api.client.put(f"/v1/calls/{ids[HARD_FIRST[0]]}/roles",
                       json={"speaker": "Jordan Blake", "role": "rep"}, headers=api.headers)
    assert r.status_code == 202
    api.worker_run()
    for cid in ids.values():  # Jordan is in both calls: both are re-decided
        roles = roles_of(api, cid)
        assert roles["Jordan Blake"] == "rep"
    call = api.client.get(f"/v1/calls/{ids[HARD_FIRST[0]]}/roles", headers=api.headers).json()
    sources = {p["name"]: p["source"] for p in call["participants"]}
    assert sources["Jordan Blake"] == "correction"
    assert roles_of(api, ids[HARD_FIRST[0]]) == LABELS[HARD_FIRST[0]]
