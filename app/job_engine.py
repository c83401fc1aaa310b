"""The job engine on PostgreSQL: every Job row gets a procrastinate job, its *ticket*.

The Job row is the domain record (`GET /v1/jobs/{id}`: status, attempts, error); the ticket
is what procrastinate schedules. A ticket is deferred in the very transaction that creates
its row (procrastinate accepts our connection), so a row never commits without one and a
rolled-back row leaves none. What a ticket says:

- queue `calls` (calls and role changes) or `rebuilds`, and a priority: calls run first;
- a lock, so that two tickets of one call, or two rebuilds of one workspace, never run at
  once (a changed re-delivery runs after the version before it);
- for a rebuild, a queueing lock: one waiting rebuild per workspace.

`reconcile` gives a ticket to any queued row that has none (rows made before this engine, a
ticket lost by hand); a ticket whose row is no longer queued does nothing (app/pg_worker.py),
so a row with two tickets still runs once. SQLite has no tickets: its in-process runner
(app/worker.py) reads the rows themselves.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from importlib.metadata import version
from pathlib import Path

from procrastinate import App, SyncPsycopgConnector
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.schema import SchemaManager
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from models import Job
from models.base import utcnow

log = logging.getLogger("verbatim.jobs")

TASK_NAME = "verbatim.run_job"
CALLS_QUEUE, REBUILDS_QUEUE = "calls", "rebuilds"
QUEUES = {"process_call": CALLS_QUEUE, "roles": CALLS_QUEUE, "rebuild": REBUILDS_QUEUE}
# a queued row this young may still be committing its own ticket: reconcile leaves it alone
RECONCILE_GRACE_S = 10.0

# defers only on the caller's connection, so it never opens a pool of its own
_DEFERRER = App(connector=SyncPsycopgConnector())


def on_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def ticket_options(job: Job) -> dict:
    """Queue, priority (procrastinate runs higher first; our rows run lower first) and locks."""
    if job.kind == "process_call":
        lock = f"call-{job.call_id}"
    else:
        lock = f"{job.kind}-{job.workspace_id}"
    options = {"queue": QUEUES.get(job.kind, CALLS_QUEUE), "priority": -job.priority,
               "lock": lock}
    if job.kind == "rebuild":
        options["queueing_lock"] = lock
    return options


def defer(*, session: Session, job: Job, schedule_at: datetime | None = None) -> None:
    """Defers the row's ticket inside the session's transaction (a savepoint, so that a
    refused queueing lock leaves the transaction usable)."""
    try:
        with session.begin_nested():
            connection = session.connection().connection.driver_connection
            _DEFERRER.configure_task(TASK_NAME, connection=connection, schedule_at=schedule_at,
                                     **ticket_options(job)).defer(job_id=job.id)
    except AlreadyEnqueued:
        # this workspace's rebuild ticket is already waiting: it runs the waiting row
        log.info("a rebuild ticket is already waiting for workspace %s", job.workspace_id,
                 extra={"job_id": job.id})


def reconcile(engine: Engine, now: datetime | None = None) -> int:
    """Defers a ticket for every queued row that has no live (waiting or running) one."""
    cutoff = (now or utcnow()) - timedelta(seconds=RECONCILE_GRACE_S)
    with engine.connect() as connection:
        orphans = connection.execute(text(
            "SELECT j.id FROM job j WHERE j.status = 'queued' AND j.created_at < :cutoff "
            "AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs t WHERE t.task_name = :task "
            "AND t.status IN ('todo', 'doing') AND t.args->>'job_id' = j.id::text) "
            "ORDER BY j.id"), {"cutoff": cutoff, "task": TASK_NAME}).scalars().all()
    deferred = 0
    for job_id in orphans:
        with Session(engine, expire_on_commit=False) as session:
            job = session.get(Job, job_id)
            if job is None or job.status != "queued":
                continue
            defer(session=session, job=job, schedule_at=job.available_at)
            session.commit()
            deferred += 1
    if deferred:
        log.warning("deferred a ticket for %d queued jobs that had none", deferred)
    return deferred


# --- procrastinate's own schema, applied by app.db.migrate on PostgreSQL ------------------

_SCHEMA_MARK = "procrastinate "  # + the version whose schema the database holds
_MIGRATION_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)_")


def ensure_schema(connection: Connection) -> None:
    """Creates procrastinate's tables and functions, or brings them to the installed
    version with procrastinate's own migration files. Idempotent; the caller holds the
    migration lock and the transaction."""
    installed = _version_string(version("procrastinate"))
    exists, applied = connection.execute(text(
        "SELECT to_regclass('procrastinate_jobs') IS NOT NULL, "
        "CASE WHEN to_regclass('procrastinate_jobs') IS NOT NULL "
        "THEN obj_description(to_regclass('procrastinate_jobs'), 'pg_class') END")).one()
    driver = connection.connection.driver_connection  # no parameters: '%' stays as it is
    if not exists:
        driver.execute(SchemaManager.get_schema())
    elif applied is None or not applied.startswith(_SCHEMA_MARK):
        log.warning("procrastinate's schema has no version mark: taken as %s's", installed)
    elif applied != _SCHEMA_MARK + installed:
        for script in migrations_between(applied.removeprefix(_SCHEMA_MARK), installed):
            log.warning("applying procrastinate migration %s", script.name)
            driver.execute(script.read_text(encoding="utf-8"))
    else:
        return
    connection.execute(text(f"COMMENT ON TABLE procrastinate_jobs IS '{_SCHEMA_MARK}{installed}'"))


def migrations_between(old: str, new: str) -> list[Path]:
    """procrastinate's migration scripts after version `old` up to `new`, in order."""
    low, high = _version_tuple(old), _version_tuple(new)
    scripts = []
    for path in sorted(Path(SchemaManager.get_migrations_path()).glob("*.sql")):
        match = _MIGRATION_VERSION.match(path.name)
        if match and low < tuple(int(part) for part in match.groups()) <= high:
            scripts.append(path)
    return scripts


def _version_tuple(text_version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text_version)[:3])


def _version_string(text_version: str) -> str:
    """Only digits and dots go into the SQL comment."""
    return ".".join(str(part) for part in _version_tuple(text_version))
