"""Speaker roles: only customer text feeds the feed; roster changes reprocess calls."""

from __future__ import annotations

from tests.app.factories import transcript


def _unlabelled(external_id: str) -> dict:
    payload = transcript(external_id, ["Honestly the price is far beyond our budget."])
    # copies: the factory's rep is shared by every test
    payload["participants"] = [{**p, "role": None, "email": None} for p in payload["participants"]]
    return payload


def _roles(api, call_id: int) -> dict[str, str]:
    call = api.client.get(f"/v1/calls/{call_id}", headers=api.headers).json()
    return {p["name"]: p["role"] for p in call["participants"]}


def test_roster_decides_roles_and_reprocesses(api):
    call_id = api.client.post("/v1/calls", json=_unlabelled("r-1"),
                              headers=api.headers).json()["call_id"]
    api.worker_run()
    r = api.client.put("/v1/roster", json={"members": ["Jorge Alvarez"], "own_domains": []},
                       headers=api.headers)
    assert r.status_code == 202
    api.worker_run()
    roles = _roles(api, call_id)
    assert roles["Jorge Alvarez"] == "rep"
    assert api.client.get("/v1/roster", headers=api.headers).json()["members"] == [
        "jorge alvarez"]
    call = api.client.get(f"/v1/calls/{call_id}", headers=api.headers).json()
    assert all(m["speaker"] != "Jorge Alvarez" for m in call["mentions"])


def test_explicit_role_override(api):
    call_id = api.client.post("/v1/calls", json=transcript("r-2", ["Too expensive for us."]),
                              headers=api.headers).json()["call_id"]
    api.worker_run()
    r = api.client.put(f"/v1/calls/{call_id}/roles",
                       json={"speaker": "Dana Whitfield", "role": "customer"},
                       headers=api.headers)
    assert r.status_code == 202
    api.worker_run()
    assert _roles(api, call_id)["Dana Whitfield"] == "customer"
    r = api.client.put(f"/v1/calls/{call_id}/roles", json={"speaker": "Nobody", "role": "rep"},
                       headers=api.headers)
    assert r.status_code == 404


def test_call_roles_report_source_and_confidence_and_swap_in_one_call(api):
    call_id = api.client.post("/v1/calls", json=_unlabelled("r-3"),
                              headers=api.headers).json()["call_id"]
    api.worker_run()
    r = api.client.get(f"/v1/calls/{call_id}/roles", headers=api.headers)
    assert r.status_code == 200
    before = {p["name"]: p for p in r.json()["participants"]}
    assert {p["source"] for p in before.values()} == {"pattern"}
    assert all(0.5 <= p["confidence"] <= 0.95 for p in before.values())
    assert r.json()["unsure"] == any(p["unsure"] for p in before.values())
    r = api.client.post(f"/v1/calls/{call_id}/roles/swap", headers=api.headers)
    assert r.status_code == 202
    api.worker_run()
    after = api.client.get(f"/v1/calls/{call_id}/roles", headers=api.headers).json()
    flip = {"rep": "customer", "customer": "rep"}
    assert {p["name"]: p["role"] for p in after["participants"]} == {
        n: flip[p["role"]] for n, p in before.items()}
    assert {p["source"] for p in after["participants"]} == {"correction"}
    assert after["unsure"] is False
    assert api.client.get("/v1/calls/999999/roles", headers=api.headers).status_code == 404


def test_a_correction_reaches_every_call_with_that_person_and_back(api):
    ids = [api.client.post("/v1/calls", json=_unlabelled(f"r-4{i}"),
                           headers=api.headers).json()["call_id"] for i in range(2)]
    api.worker_run()
    r = api.client.put(f"/v1/calls/{ids[0]}/roles",
                       json={"speaker": "Jorge Alvarez", "role": "rep"}, headers=api.headers)
    assert r.status_code == 202
    api.worker_run()
    assert all(_roles(api, cid)["Jorge Alvarez"] == "rep" for cid in ids)
    call = api.client.get(f"/v1/calls/{ids[1]}", headers=api.headers).json()
    assert all(m["speaker"] != "Jorge Alvarez" for m in call["mentions"])
    api.client.put(f"/v1/calls/{ids[0]}/roles", json={"speaker": "Jorge Alvarez", "role": None},
                   headers=api.headers)
    api.worker_run()
    sources = {p["name"]: p["source"] for p in api.client.get(
        f"/v1/calls/{ids[1]}/roles", headers=api.headers).json()["participants"]}
    assert sources["Jorge Alvarez"] != "correction"
