"""Alembic's entry point: the models' metadata is the target; the app hands over its own
connection (app.db.migrate), the command line reads VERBATIM_DATABASE_URL."""

from __future__ import annotations

import os

from alembic import context
from sqlmodel import SQLModel

import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from app.db import is_ours, make_engine

config = context.config
target_metadata = SQLModel.metadata


def _configure_and_run(connection) -> None:
    context.configure(
        connection=connection, target_metadata=target_metadata, compare_type=True,
        include_name=is_ours,  # procrastinate's tables are not alembic's (app/job_engine.py)
        # SQLite cannot ALTER most things: alembic rebuilds the table instead
        render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    url = os.environ.get("VERBATIM_DATABASE_URL", "sqlite:///./verbatim.db")
    engine = make_engine(url)
    with engine.connect() as connection:
        _configure_and_run(connection)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: run against a database")
run()
