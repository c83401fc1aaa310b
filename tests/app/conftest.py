"""App fixtures: a fresh database per test (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db import make_engine, migrate, session_scope
from app.main import create_app
from app.services.workspaces import create_api_key, get_or_create_workspace
from app.settings import Settings

PG_URL = os.environ.get("VERBATIM_TEST_DATABASE_URL")


def _backends() -> list[str]:
    return ["sqlite", "postgres"] if PG_URL else ["sqlite"]


@pytest.fixture(params=_backends())
def db_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/verbatim-test.db"
    reset_postgres(PG_URL)
    return PG_URL


@pytest.fixture
def engine(db_url):
    """A migrated database without the app, for tests of the jobs and services underneath."""
    engine = make_engine(db_url)
    migrate(engine)
    yield engine
    engine.dispose()


def reset_postgres(url: str) -> None:
    """Everything goes, tables of other versions and alembic's bookkeeping included."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@dataclass
class Api:
    client: TestClient
    headers: dict[str, str]
    workspace_id: int

    def worker_run(self) -> int:
        """Drives the app's own worker until the queue is empty."""
        return self.client.app.state.worker.run_until_idle()

    def new_key(self, workspace: str) -> dict[str, str]:
        with session_scope(self.client.app.state.engine) as session:
            ws = get_or_create_workspace(session=session, name=workspace)
            key = create_api_key(session=session, workspace=ws)
        return {"Authorization": f"Bearer {key}"}


def _api(db_url: str, models, **settings) -> Iterator[Api]:
    app = create_app(Settings(database_url=db_url, **settings), models=models)
    with TestClient(app) as client:
        with session_scope(app.state.engine) as session:
            ws = get_or_create_workspace(session=session, name="acme")
            ws.own_domains = ["relayhq.com"]
            key = create_api_key(session=session, workspace=ws)
            workspace_id = ws.id
        yield Api(client, {"Authorization": f"Bearer {key}"}, workspace_id)


@pytest.fixture
def api(db_url, models) -> Iterator[Api]:
    """The app with its worker thread off: tests run the worker explicitly."""
    yield from _api(db_url, models, worker_enabled=False)


@pytest.fixture
def live_api(db_url, models) -> Iterator[Api]:
    """The app with its background worker thread running, as in production."""
    yield from _api(db_url, models, worker_enabled=True, worker_poll_seconds=0.1)
