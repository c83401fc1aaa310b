"""Migrations: upgrading an empty database gives exactly the models' tables (a model change
without its revision fails here), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, update
from sqlmodel import Session, SQLModel, select

from app.db import UnversionedDatabase, alembic_config, is_ours, make_engine, migrate, session_scope
from app.jobs.rebuild import rebuild_kind
from app.services.feed import quote_lead
from app.services.workspaces import get_or_create_workspace
from models import ClusterMember, Mention
from tests.app.mention_rows import add_mentions, topic_vectors


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


def test_0004_fills_existing_members_leads_as_quote_lead_counts_them(engine):
    """Themes built before 0004 read in the order a rebuild would now write."""
    migrate(engine)
    X, _ = topic_vectors(2, 10, seed=5)
    kinds = ("objection", "question")
    with session_scope(engine) as session:
        workspace_id = get_or_create_workspace(session=session, name="old").id
        for kind in kinds:
            ids = add_mentions(session, workspace_id, X, calls=2, kind=kind)
            session.execute(update(Mention).where(Mention.id.in_(ids)).values(confidence=0.7))
    for kind in kinds:
        with session_scope(engine) as session:
            rebuild_kind(session=session, workspace_id=workspace_id, kind=kind, job_id=None)
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0003")
    migrate(engine)
    with Session(engine) as session:
        members = session.exec(select(ClusterMember.similarity, ClusterMember.lead,
                                      Mention.confidence, Mention.kind)
                               .join(Mention, Mention.id == ClusterMember.mention_id)).all()
    assert {kind for *_, kind in members} == set(kinds)
    for sim, lead, confidence, kind in members:
        assert lead == pytest.approx(quote_lead(sim, confidence, kind))
