"""Speaker roles: only customer text feeds the feed; roster changes reprocess calls."""

from __future__ import annotations

from tests.app.factories import transcript


def _unlabelled(external_id: str) -> dict:
    payload = transcript(external_id, ["Honestly the price is far beyond our budget."])
    for p in payload["participants"]:
        p["role"] = None
        p["email"] = None
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
