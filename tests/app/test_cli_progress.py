"""`make run` and `verbatim ingest --process` say what they are doing while jobs run."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from app.cli import _run_with_progress
from models import Job
from tests.app.factories import transcript

pytestmark = pytest.mark.slow


def test_the_progress_bar_names_call_processing_then_clustering(api, capsys):
    if api.client.app.state.engine.dialect.name != "sqlite":
        pytest.skip("the bar drives the SQLite runner; PostgreSQL runs jobs on procrastinate")
    for i in range(2):
        r = api.client.post("/v1/calls", headers=api.headers,
                            json=transcript(f"p-{i}", ["It is too expensive for a team our size."]))
        assert r.status_code == 202, r.text
    engine = api.client.app.state.engine

    ran = _run_with_progress(engine, api.client.app.state.worker)

    with Session(engine) as session:
        jobs = session.exec(select(Job)).all()
    assert ran == len(jobs) and {j.status for j in jobs} == {"done"}
    assert {j.kind for j in jobs} >= {"process_call", "rebuild"}
    shown = capsys.readouterr().err
    assert "processing calls" in shown and "clustering themes" in shown
    assert f"{ran}/{ran}" in shown
