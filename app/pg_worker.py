"""The worker on PostgreSQL: a procrastinate worker that runs Job rows by their tickets.

procrastinate claims tickets (`SKIP LOCKED`), wakes on LISTEN/NOTIFY, runs calls before
rebuilds, keeps its locks (app/job_engine.py), beats a heartbeat, and retries a ticket when
its Job row says so. The Job row stays the truth:

- a ticket claims its row (queued -> running, an attempt) under a holder id naming the
  ticket; a row that is not queued (done, failed, held by another ticket) makes it a no-op;
- the run settles the row only while that holder still has it (app/services/jobs.py), so a
  late finisher never overwrites; a failure is recorded on the row, which decides whether
  and when the ticket runs again (`FollowJobRow`);
- a maintenance pass, at start and every `lease / 2` seconds, in one worker at a time:
  tickets whose worker stopped beating (killed, out of memory) have their row settled — the
  crash counts an attempt, the reason is in `error` — and are retried or closed; a row
  left running by a ticket that ended is settled the same way; then `reconcile` gives a
  ticket to any queued row without one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta

import psycopg
from procrastinate import App, BaseRetryStrategy, JobContext, PsycopgConnector, RetryDecision
from procrastinate.exceptions import ConnectorException
from procrastinate.jobs import Status
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.db import session_scope
from app.job_engine import TASK_NAME, reconcile
from app.nlp import Models
from app.services.jobs import claim, settle_abandoned
from app.worker import heartbeat_while, run_claimed
from models import Job
from models.base import utcnow

log = logging.getLogger("verbatim.worker")

# with LISTEN/NOTIFY a worker wakes at once; polling still finds retries coming due
FETCH_POLL_S = 2.0
# any constant but the migration one: one maintenance pass at a time across all workers
_MAINTENANCE_LOCK = 7_208_314


class RetryAt(Exception):
    """The row was queued again after a failed attempt: run the ticket again at `when`."""

    def __init__(self, when: datetime | None) -> None:
        super().__init__(f"retry at {when}")
        self.when = when


class JobFailed(Exception):
    """The row failed for good (attempts used up): the ticket fails too."""


class FollowJobRow(BaseRetryStrategy):
    """The row decides: a ticket is retried exactly when its row was queued again."""

    def get_retry_decision(self, *, exception: BaseException, job) -> RetryDecision | None:
        if isinstance(exception, RetryAt):
            return RetryDecision(retry_at=exception.when or utcnow())
        return None


def conninfo(engine: Engine) -> str:
    """libpq's form of the engine's URL (procrastinate talks to psycopg directly)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class TicketWorker:
    """`run_forever` is `verbatim worker`; `start`/`stop` run it on a thread of the API
    process (VERBATIM_WORKER=1); `run_until_idle` drains what is due (tests, the demo)."""

    def __init__(self, engine: Engine, models: Models, *, lease_seconds: float = 60.0,
                 concurrency: int = 2, queues: Sequence[str] | None = None,
                 name: str = "worker", metrics=None) -> None:
        self.engine = engine
        self.models = models
        self.lease_seconds = lease_seconds
        self.concurrency = concurrency
        self.queues = list(queues) if queues else None
        self.name = name
        self.metrics = metrics
        self.holder_base = f"{socket.gethostname()[:40]}:{os.getpid()}:{name}"
        self.processed = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._thread: threading.Thread | None = None

    # --- running tickets ---------------------------------------------------------------

    def run_ticket(self, context: JobContext, job_id: int) -> str:
        """The task body: claims the row, runs it, and tells procrastinate what followed."""
        holder = f"pj{context.job.id}:{self.holder_base}:{uuid.uuid4().hex[:8]}"
        with Session(self.engine, expire_on_commit=False) as session:
            job = claim(session=session, job_id=job_id, worker_id=holder)
        if job is None:
            log.info("ticket %s: job %s is not queued, nothing to do", context.job.id, job_id,
                     extra={"worker_id": holder})
            return "nothing to do"
        self.processed += 1
        with heartbeat_while(self.engine, job_id, holder, self.lease_seconds / 4):
            outcome = run_claimed(self.engine, self.models, job, holder, self.metrics)
        if outcome == "error":
            with Session(self.engine) as session:
                row = session.get(Job, job_id)
                if row is not None and row.status == "queued":
                    raise RetryAt(row.available_at)
                raise JobFailed(row.error if row is not None else "the job row is gone")
        return outcome

    def _app(self) -> App:
        app = App(connector=PsycopgConnector(conninfo=conninfo(self.engine), min_size=1,
                                             max_size=self.concurrency + 3))
        app.task(name=TASK_NAME, pass_context=True, retry=FollowJobRow())(self.run_ticket)
        return app

    async def _work(self, *, wait: bool, install_signal_handlers: bool,
                    concurrency: int) -> None:
        app = self._app()
        async with app.open_async():
            await self._maintain_safely(app)
            upkeep = asyncio.create_task(self._maintain_forever(app)) if wait else None
            try:
                await app.run_worker_async(
                    name=self.name, queues=self.queues, concurrency=concurrency, wait=wait,
                    listen_notify=wait, fetch_job_polling_interval=FETCH_POLL_S,
                    install_signal_handlers=install_signal_handlers,
                    update_heartbeat_interval=self.lease_seconds / 4,
                    stalled_worker_timeout=self.lease_seconds,
                    delete_jobs="successful")
            finally:
                if upkeep is not None:
                    upkeep.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await upkeep

    def run_forever(self) -> None:
        """Until SIGTERM or SIGINT, which let the jobs in hand finish (a rolling restart)."""
        asyncio.run(self._work(wait=True, install_signal_handlers=True,
                               concurrency=self.concurrency))

    def run_until_idle(self) -> int:
        """Runs tickets one at a time until none is due; the number of jobs run."""
        before = self.processed
        asyncio.run(self._work(wait=False, install_signal_handlers=False, concurrency=1))
        return self.processed - before

    def recover(self) -> None:
        """One maintenance pass (run_until_idle and every worker start make one too)."""

        async def once() -> None:
            app = self._app()
            async with app.open_async():
                await self.maintain(app)

        asyncio.run(once())

    def start(self) -> None:
        def serve() -> None:
            asyncio.run(self._serve_in_thread())

        self._thread = threading.Thread(target=serve, name=f"procrastinate-{self.name}",
                                        daemon=True)
        self._thread.start()

    async def _serve_in_thread(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        with contextlib.suppress(asyncio.CancelledError):
            await self._work(wait=True, install_signal_handlers=False,
                             concurrency=self.concurrency)

    def stop(self, timeout: float = 30.0) -> None:
        """Asks the thread's worker to stop after the jobs in hand."""
        running = self._thread is not None and self._thread.is_alive()
        if running and self._loop is not None and self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        if self._thread is not None:
            self._thread.join(timeout)

    # --- maintenance -------------------------------------------------------------------

    async def _maintain_forever(self, app: App) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 2)
            await self._maintain_safely(app)

    async def _maintain_safely(self, app: App) -> None:
        try:
            await self.maintain(app)
        except Exception:  # the database may be briefly unavailable: next time
            log.exception("job maintenance failed")

    async def maintain(self, app: App) -> None:
        """Settles stalled tickets, then defers tickets for queued rows without one."""
        async with _exclusive(conninfo(self.engine)) as mine:
            if not mine:
                return
            stalled = await app.job_manager.get_stalled_jobs(
                task_name=TASK_NAME, seconds_since_heartbeat=self.lease_seconds)
            for ticket in stalled:
                await self._recover(app, ticket.id, int(ticket.task_kwargs["job_id"]))
            await asyncio.to_thread(self._release_orphans)
            await asyncio.to_thread(reconcile, self.engine)

    def _release_orphans(self) -> int:
        """Rows still running under a ticket that is no longer running (it ended on an
        error that left the row unsettled, say the database dropped mid-way), or under a
        worker of the engine before procrastinate whose heartbeat stopped (an upgraded
        database): settled as a crash, so that reconcile gives them a new ticket."""
        cutoff = utcnow() - timedelta(seconds=self.lease_seconds)
        with self.engine.connect() as connection:
            orphans = connection.execute(text(
                "SELECT j.id, j.locked_by FROM job j WHERE j.status = 'running' AND ("
                "(j.locked_by LIKE 'pj%:%' AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs t "
                "WHERE t.status = 'doing' AND 'pj' || t.id::text = split_part(j.locked_by, ':', 1)))"
                " OR (j.locked_by NOT LIKE 'pj%:%' "
                "AND coalesce(j.heartbeat_at, j.started_at) < :cutoff))"),
                {"cutoff": cutoff}).all()
        released = 0
        for job_id, holder in orphans:
            with session_scope(self.engine) as session:
                released += settle_abandoned(
                    session=session, job_id=job_id, holder_prefix=holder or "",
                    reason=f"its worker {holder} ended without settling it",
                    silent_since=utcnow())
        return released

    async def _recover(self, app: App, ticket_id: int, job_id: int) -> None:
        decision = await asyncio.to_thread(self._settle_row, ticket_id, job_id)
        if decision is None:
            return  # its holder still renews the row's heartbeat: alive, leave it be
        retry_at, status = decision
        try:
            if status is None:
                await app.job_manager.retry_job_by_id_async(ticket_id, retry_at=retry_at)
            else:
                await app.job_manager.finish_job_by_id_async(ticket_id, status=status,
                                                             delete_job=False)
        except ConnectorException:  # it moved on meanwhile: nothing left to do
            log.info("stalled ticket %s changed state while being recovered", ticket_id)
            return
        log.warning("ticket %s of job %s: its worker stopped responding (%s)", ticket_id,
                    job_id, "retried" if status is None else status.value,
                    extra={"job_id": job_id})

    def _settle_row(self, ticket_id: int,
                    job_id: int) -> tuple[datetime, Status | None] | None:
        """Settles the row the dead ticket held. Then None while the row is still held
        and alive; (when to retry, None) while it is queued; else (_, the ticket's final
        status)."""
        holder_prefix = f"pj{ticket_id}:"
        now = utcnow()
        with session_scope(self.engine) as session:
            settle_abandoned(
                session=session, job_id=job_id, holder_prefix=holder_prefix,
                reason=f"worker stopped responding (no heartbeat for {self.lease_seconds:g} s)",
                silent_since=now - timedelta(seconds=self.lease_seconds))
        with Session(self.engine) as session:
            row = session.get(Job, job_id)
            if row is None:
                return now, Status.SUCCEEDED
            if row.status == "running" and (row.locked_by or "").startswith(holder_prefix):
                return None
            if row.status == "queued":
                return row.available_at or now, None
            return now, Status.FAILED if row.status == "failed" else Status.SUCCEEDED


@contextlib.asynccontextmanager
async def _exclusive(dsn: str) -> AsyncIterator[bool]:
    """A session advisory lock, held while the block runs; False when another holds it."""
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as connection:
        cursor = await connection.execute("SELECT pg_try_advisory_lock(%s)",
                                          (_MAINTENANCE_LOCK,))
        held = (await cursor.fetchone())[0]
        yield bool(held)
