"""Search by meaning over HTTP, with the real embedder."""

from __future__ import annotations

import pytest

from tests.app.factories import transcript
from tests.app.planted import PLANTED, planted_calls

pytestmark = pytest.mark.slow


@pytest.fixture
def processed(api):
    for i, lines in enumerate(planted_calls()):
        payload = transcript(f"s-{i}", lines, outcome="lost" if i % 2 else "won",
                             account=f"Account {i}", started_at=f"2026-11-{10 + i}T10:00:00Z")
        assert api.client.post("/v1/calls", json=payload, headers=api.headers).status_code == 202
    api.worker_run()
    return api


def _search(api, query: str, **params) -> list[dict]:
    r = api.client.get("/v1/search", params={"q": query, **params}, headers=api.headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_too_expensive_ranks_a_price_quote_first(processed):
    hits = _search(processed, "too expensive")
    assert hits
    assert hits[0]["text"] in PLANTED["price"]
    sims = [h["similarity"] for h in hits]
    assert sims == sorted(sims, reverse=True) and sims[0] > 0.4
    top5 = [h["text"] for h in hits[:5]]
    assert sum(t in PLANTED["price"] for t in top5) >= 4


def test_hits_carry_their_source_and_cluster(processed):
    hit = _search(processed, "we are happy with Gong")[0]
    assert hit["text"] in PLANTED["competitor"]
    assert hit["speaker"] == "Jorge Alvarez" and hit["account"].startswith("Account ")
    assert hit["call_title"].startswith("Discovery") and hit["start_ms"] is not None
    assert hit["kind"] == "objection"
    if hit["cluster_id"] is not None:
        cluster = processed.client.get(f"/v1/clusters/{hit['cluster_id']}",
                                       headers=processed.headers).json()
        assert cluster["label"] == hit["cluster_label"]


def test_filters_and_limit(processed):
    api = processed
    assert len(_search(api, "contract length", limit=3)) == 3
    lost = _search(api, "too expensive", outcome="lost", limit=50)
    assert lost and all(h["outcome"] == "lost" for h in lost)
    objections = _search(api, "how much does it cost", kind="objection")
    assert objections and all(h["kind"] == "objection" for h in objections)
    assert all(h["kind"] == "question" for h in _search(api, "how much", kind="question"))


def test_bad_requests_and_other_workspaces(processed):
    api = processed
    assert api.client.get("/v1/search?q=", headers=api.headers).status_code == 422
    assert api.client.get("/v1/search?q=x&kind=nope", headers=api.headers).status_code == 422
    assert api.client.get("/v1/search?q=" + "x" * 501, headers=api.headers).status_code == 422
    assert api.client.get("/v1/search?q=price").status_code == 401
    assert _search_with(api, api.new_key("stranger"), "too expensive") == []


def _search_with(api, headers, query: str) -> list[dict]:
    r = api.client.get("/v1/search", params={"q": query}, headers=headers)
    assert r.status_code == 200
    return r.json()["items"]
