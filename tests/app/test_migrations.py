"""Migrations: upgrading an empty database gives exactly the models' tables (a model change
without its revision fails here), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from app.db import UnversionedDatabase, alembic_config, is_ours, make_engine, migrate


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def _differences(engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": is_ours})
        return compare_metadata(context, SQLModel.metadata)


def test_upgrading_an_empty_database_matches_the_models(engine):
    migrate(engine)
    assert _differences(engine) == [], (
        "the models changed without a migration: run `make migration m=\"what changed\"`")


def test_upgrading_twice_changes_nothing(engine):
    migrate(engine)
    migrate(engine)
    assert _differences(engine) == []


def test_every_revision_downgrades_and_upgrades_again(engine):
    migrate(engine)
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
    ours = {t for t in inspect(engine).get_table_names() if is_ours(t, "table")}
    assert ours <= {"alembic_version"}
    migrate(engine)
    assert _differences(engine) == []


def test_tables_made_before_migrations_are_refused_with_a_way_out(engine):
    SQLModel.metadata.create_all(engine)
    with pytest.raises(UnversionedDatabase, match="alembic stamp head"):
        migrate(engine)
