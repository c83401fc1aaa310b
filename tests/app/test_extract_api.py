"""POST /v1/extract runs the real pipeline without storing; workspaces extend the taxonomy."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from models import Mention

pytestmark = pytest.mark.slow


def test_extract_returns_exact_quotes_and_stores_nothing(api):
    text = "Um, you know, honestly the price is way more than we budgeted for this year."
    r = api.client.post("/v1/extract", json={"texts": [text, "Yeah, sounds good."]},
                        headers=api.headers)
    assert r.status_code == 200, r.text
    first, second = r.json()["results"]
    objections = [m for m in first["mentions"] if m["kind"] == "objection"]
    assert objections and objections[0]["category"] == "price"
    m = objections[0]
    assert text[m["start"]:m["end"]] == m["text"] and not m["text"].startswith("Um")
    assert not [m for m in second["mentions"] if m["kind"] == "objection"]
    with Session(api.client.app.state.engine) as s:
        assert s.exec(select(func.count()).select_from(Mention)).one() == 0


def test_workspace_adds_a_category_with_its_own_examples(api):
    r = api.client.post("/v1/taxonomy/examples", headers=api.headers, json={
        "category": "sustainability", "description": "environmental impact concerns",
        "examples": ["Our board wants vendors with a published carbon footprint.",
                     "We can't pick a supplier without an ESG report.",
                     "How green are your data centres? That matters to us."]})
    assert r.status_code == 200, r.text
    names = [c["name"] for c in api.client.get("/v1/taxonomy", headers=api.headers)
             .json()["categories"]]
    assert "sustainability" in names and "price" in names
    bad = api.client.post("/v1/taxonomy/examples", headers=api.headers,
                          json={"category": "has spaces!", "examples": ["x"]})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_field"


def test_extract_rejects_empty_input(api):
    r = api.client.post("/v1/extract", json={"texts": []}, headers=api.headers)
    assert r.status_code == 422 and r.json()["error"] == "invalid_request"
