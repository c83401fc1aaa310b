"""CSV exports and the Markdown content brief over HTTP, after the real pipeline ran."""

from __future__ import annotations

import csv
import io
import re

import pytest

from app.services.export import CLUSTER_COLUMNS, QUOTE_COLUMNS
from tests.app.factories import transcript
from tests.app.planted import PLANTED, planted_calls

pytestmark = pytest.mark.slow

DATES = ["2026-11-20T10:00:00Z", "2026-11-18T10:00:00Z", "2026-11-02T10:00:00Z",
         "2026-10-20T10:00:00Z", "2026-09-30T10:00:00Z", "2026-09-10T10:00:00Z"]


@pytest.fixture
def processed(api):
    for i, lines in enumerate(planted_calls()):
        payload = transcript(f"x-{i}", lines, outcome="lost" if i < 4 else "won",
                             account=f"Account {i % 4}", started_at=DATES[i],
                             tags=["enterprise"] if i % 2 else ["smb"])
        assert api.client.post("/v1/calls", json=payload, headers=api.headers).status_code == 202
    api.worker_run()
    return api


def _rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def _price_cluster(api) -> dict:
    feed = api.client.get("/v1/feed/objections?quotes=50", headers=api.headers).json()
    for item in feed["items"]:
        if any(q["text"] in PLANTED["price"] for q in item["quotes"]):
            return item
    raise AssertionError("no cluster holds the planted price objections")


def test_clusters_csv_follows_the_feed(processed):
    api = processed
    r = api.client.get("/v1/export/clusters.csv?kind=objections", headers=api.headers)
    rows = _rows(r)
    assert re.fullmatch(r'attachment; filename="verbatim-objections-\d{4}-\d\d-\d\d\.csv"',
                        r.headers["content-disposition"])
    assert list(rows[0]) == CLUSTER_COLUMNS
    feed = api.client.get("/v1/feed/objections?limit=100", headers=api.headers).json()
    assert [int(r["cluster_id"]) for r in rows] == [i["id"] for i in feed["items"]]
    assert [int(r["rank"]) for r in rows] == list(range(1, len(rows) + 1))
    for row, item in zip(rows, feed["items"], strict=True):
        assert int(row["mentions"]) == item["mentions"] and int(row["calls"]) == item["calls"]
        assert row["top_quote"] == item["quotes"][0]["text"]
        assert row["kind"] == "objection"


def test_clusters_csv_takes_the_feed_filters(processed):
    api = processed
    rows = _rows(api.client.get("/v1/export/clusters.csv?outcome=won", headers=api.headers))
    assert rows
    assert any(int(row["won_calls"]) >= 1 for row in rows)
    for row in rows:
        # call counts are of confident mentions: a theme heard only in unsure ones counts none
        assert int(row["lost_calls"]) == 0
        assert (int(row["won_calls"]) >= 1) == (int(row["confident_mentions"]) >= 1)
        assert float(row["lost_share"] or 0) == 0.0
    r = api.client.get("/v1/export/clusters.csv?kind=nope", headers=api.headers)
    assert r.status_code == 422


def test_quotes_csv_lists_every_clustered_quote_with_its_source(processed):
    api = processed
    price = _price_cluster(api)
    r = api.client.get(f"/v1/export/quotes.csv?cluster_id={price['id']}", headers=api.headers)
    rows = _rows(r)
    assert f"cluster-{price['id']}" in r.headers["content-disposition"]
    assert list(rows[0]) == QUOTE_COLUMNS
    assert len(rows) == price["mentions"]
    assert rows[0]["quote"] == price["quotes"][0]["text"]  # the feed's first quote leads
    assert sum(any(row["quote"] in p or p in row["quote"] for p in PLANTED["price"])
               for row in rows) >= 3
    for row in rows:
        assert row["speaker"] == "Jorge Alvarez" and row["account"].startswith("Account ")
        assert re.fullmatch(r"\d+:\d\d", row["timestamp"])
        assert row["call_date"] in {d[:10] for d in DATES}
    everything = _rows(api.client.get("/v1/export/quotes.csv?kind=objection",
                                      headers=api.headers))
    assert len(everything) >= len(rows)
    assert {row["kind"] for row in everything} == {"objection"}
    # nothing is hidden: other-group quotes are exported too, labelled with their category
    feed = api.client.get("/v1/feed/objections", headers=api.headers).json()
    assert len(everything) == sum(c["mentions"] for c in feed["categories"])
    others = [row for row in everything if not row["cluster_id"]]
    assert len(others) == feed["other"]
    assert all(row["cluster_label"].startswith("Other ") for row in others)


def test_brief_has_the_numbers_and_the_best_quotes(processed):
    api = processed
    price = _price_cluster(api)
    r = api.client.get(f"/v1/clusters/{price['id']}/brief.md", headers=api.headers)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/markdown")
    assert re.fullmatch(rf'attachment; filename="brief-{price["id"]}-[a-z0-9-]+\.md"',
                        r.headers["content-disposition"])
    brief = r.text
    assert brief.startswith(f"# {price['label']}\n")
    assert f"**{price['mentions']} mentions** in **{price['calls']} calls**" in brief
    assert f"from **{price['accounts']} accounts**" in brief
    assert re.search(r"\*\*Lost-deal share:\*\* \d+% of the decided deals", brief)
    assert "**Trend:**" in brief and "last 30 days" in brief
    quotes = re.findall(r"^\d+\. “(.+)”$", brief, flags=re.MULTILINE)
    assert 1 <= len(quotes) <= 10
    assert sum(any(q in p or p in q for p in PLANTED["price"]) for q in quotes) >= 3
    assert re.search(r"^   — Jorge Alvarez, Account \d, Discovery — Account \d, \w+ \d+, 2026, "
                     r"\d+:\d\d$", brief, flags=re.MULTILINE)


def test_exports_belong_to_the_workspace(processed):
    api = processed
    price = _price_cluster(api)
    stranger = api.new_key("someone-else")
    assert api.client.get(f"/v1/clusters/{price['id']}/brief.md",
                          headers=stranger).status_code == 404
    assert api.client.get(f"/v1/export/quotes.csv?cluster_id={price['id']}",
                          headers=stranger).status_code == 404
    assert len(_rows(api.client.get("/v1/export/clusters.csv", headers=stranger))) == 0
    assert api.client.get("/v1/export/clusters.csv").status_code == 401
