"""/metrics: request latency by route template, jobs by kind and state, queue depth, job
processing seconds and model load time, in Prometheus' text format."""

from __future__ import annotations

import re

import pytest

from tests.app.factories import transcript

pytestmark = pytest.mark.slow


def _value(text: str, name: str, **labels: str) -> float | None:
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_metrics_count_requests_jobs_and_queue(api):
    posted = api.client.post("/v1/calls", headers=api.headers,
                             json=transcript("m-1", ["Too expensive for us."])).json()
    api.client.post("/v1/calls", headers=api.headers,
                    json=transcript("m-2", ["We already use Gong."]))
    api.client.get(f"/v1/calls/{posted['call_id']}", headers=api.headers)
    before = api.client.get("/metrics")
    assert before.status_code == 200 and before.headers["content-type"].startswith("text/plain")
    assert _value(before.text, "verbatim_queue_depth", kind="process_call") == 2
    assert _value(before.text, "verbatim_http_request_seconds_count", method="GET",
                  route="/v1/calls/{call_id}", status="200") == 1
    assert _value(before.text, "verbatim_model_load_seconds") is not None
    api.worker_run()
    after = api.client.get("/metrics").text
    assert _value(after, "verbatim_queue_depth", kind="process_call") == 0
    assert _value(after, "verbatim_jobs", kind="process_call", state="done") == 2
    assert _value(after, "verbatim_job_seconds_count", kind="process_call",
                  outcome="done") == 2
