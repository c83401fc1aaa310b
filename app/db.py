"""Database engine and sessions."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

import models  # noqa: F401  (registers the tables on SQLModel.metadata)


def normalise_url(url: str) -> str:
    """postgresql:// URLs use the psycopg 3 driver, which is the one we install."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.removeprefix("postgres://")
    return url


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        kwargs: dict = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    event.listen(engine, "before_cursor_execute", _without_nul, retval=True)
    return engine


def _without_nul(_conn, _cursor, statement, parameters, _context, executemany):
    """PostgreSQL text cannot hold a NUL character: it is dropped from every text value
    (stored text, metadata, names, filter values), on both databases, so that they agree."""
    # a batch is a list of rows, except a batched insert, which arrives as one flat mapping
    if executemany and isinstance(parameters, (list, tuple)) and parameters \
            and isinstance(parameters[0], (dict, list, tuple)):
        return statement, type(parameters)(_clean(p) for p in parameters)
    return statement, _clean(parameters)


def _clean(params):
    if isinstance(params, dict):
        if not any(isinstance(v, str) and "\x00" in v for v in params.values()):
            return params
        return {k: v.replace("\x00", "") if isinstance(v, str) else v
                for k, v in params.items()}
    if isinstance(params, (list, tuple)):
        if not any(isinstance(v, str) and "\x00" in v for v in params):
            return params
        return type(params)(v.replace("\x00", "") if isinstance(v, str) else v
                            for v in params)
    return params


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


# the repository's migrations/; an installed copy (the Docker image) names it in the environment
MIGRATIONS = Path(os.environ.get("VERBATIM_MIGRATIONS")
                  or Path(__file__).resolve().parent.parent / "migrations")
# any constant: processes starting together on PostgreSQL migrate one after the other
_MIGRATION_LOCK = 7_208_313


class UnversionedDatabase(RuntimeError):
    """Tables made before migrations existed: alembic cannot know what they hold."""


def alembic_config(connection=None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def migrate(engine: Engine) -> None:
    """Upgrades the database to the newest revision; a new database gets every table. On
    PostgreSQL, procrastinate's schema (the job engine) is created or upgraded too."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": _MIGRATION_LOCK})
        tables = set(inspect(connection).get_table_names())
        if "workspace" in tables and "alembic_version" not in tables:
            raise UnversionedDatabase(
                "this database was created before migrations: recreate it (the demo's "
                "verbatim.db can simply be deleted), or, if its tables match this version, "
                "mark it with `alembic stamp head` (README: Upgrading)")
        command.upgrade(alembic_config(connection), "head")
        if connection.dialect.name == "postgresql":
            from app.job_engine import ensure_schema

            ensure_schema(connection)


def is_ours(name: str | None, type_: str, _parent_names=None) -> bool:
    """Alembic compares only our tables: procrastinate's are ensure_schema's (job_engine)."""
    return not (type_ == "table" and (name or "").startswith("procrastinate_"))


def create_tables(engine: Engine) -> None:
    """Kept for tests and tools: the same as migrate()."""
    migrate(engine)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# session.info's mark of a session reading a snapshot
_SNAPSHOT = "read_snapshot"
# read only: a feed read writes nothing, and PostgreSQL refuses a write that would slip in
_PG_SNAPSHOT = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}


class PendingWrites(RuntimeError):
    """read_snapshot was entered with changes not yet flushed or committed."""


@contextmanager
def read_snapshot(session: Session) -> Iterator[None]:
    """Reads inside see one snapshot of the database, whatever others commit meanwhile, so that
    numbers read by separate statements (kept totals, day windows, quotes) add up.

    The session's transaction ends on the way in (a commit, so the snapshot's isolation can be
    set: a session holding unflushed changes raises PendingWrites rather than commit them) and
    on the way out, so a snapshot lives only while it is read; nested, the outer one holds.
    Build the answer inside the block: the exit commit expires loaded objects in a session with
    expire_on_commit=True, and what is read after it is of another moment. Writes inside fail
    on both databases (PostgreSQL: a read-only transaction; SQLite: query_only). An in-memory
    SQLite database (StaticPool: one connection for everyone) holds one snapshot at a time:
    for a single session, as in tests."""
    if session.info.get(_SNAPSHOT):
        yield
        return
    if session.new or session.dirty or session.deleted:
        raise PendingWrites("read_snapshot would commit the session's pending changes: "
                            "commit or roll them back before reading a snapshot")
    session.commit()  # a request's key look-up began a transaction: its isolation is set
    postgres = session.get_bind().dialect.name == "postgresql"
    connection = session.connection(execution_options=_PG_SNAPSHOT if postgres else None)
    if not postgres:
        # pysqlite opens no transaction for a SELECT: each would read the database as it stands
        connection.exec_driver_sql("BEGIN")
        connection.exec_driver_sql("PRAGMA query_only=ON")
    session.info[_SNAPSHOT] = True
    read = False
    try:
        yield
        read = True
    finally:
        del session.info[_SNAPSHOT]
        if not postgres:
            # the connection goes back to the pool writable, whatever happened inside
            connection.exec_driver_sql("PRAGMA query_only=OFF")
        if read:
            session.commit()
        else:
            session.rollback()
