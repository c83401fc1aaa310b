"""The job worker on SQLite: threads inside the server (one process only).

Each worker renews the heartbeat of the job it runs, takes back jobs whose worker stopped
renewing theirs (killed, out of memory), and settles a job only while it still holds it.
On PostgreSQL, procrastinate runs the jobs (app/pg_worker.py) with `run_claimed` below.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.db import session_scope
from app.jobs import run_job
from app.nlp import Models
from app.services.jobs import LeaseLost, claim_next, complete, fail, heartbeat, recover_stalled
from models import Job

log = logging.getLogger("verbatim.worker")

# the kinds a call lane runs, so that a call never waits behind a long rebuild
CALL_KINDS = ("process_call", "roles")


class Worker:
    def __init__(self, engine: Engine, models: Models, poll_seconds: float = 0.5, *,
                 lease_seconds: float = 60.0, kinds: Sequence[str] | None = None,
                 name: str = "worker", metrics=None) -> None:
        self.engine = engine
        self.models = models
        self.poll_seconds = poll_seconds
        self.lease_seconds = lease_seconds
        self.kinds = tuple(kinds) if kinds else None
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{name}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_recovery: float | None = None
        self.metrics = metrics  # app.metrics.Metrics, when the process serves /metrics

    def recover(self) -> int:
        """Jobs whose worker stopped renewing their heartbeat are queued again (or failed)."""
        self._last_recovery = time.monotonic()
        with session_scope(self.engine) as session:
            count = recover_stalled(session=session, lease_seconds=self.lease_seconds)
        if count:
            log.warning("recovered %d stalled jobs", count)
        return count

    def run_once(self) -> bool:
        """Claims and runs one job; False when no job was ready."""
        with Session(self.engine, expire_on_commit=False) as session:
            job = claim_next(session=session, worker_id=self.worker_id, kinds=self.kinds)
        if job is None:
            return False
        with self._heartbeat(job.id):
            self._run(job)
        return True

    def run_until_idle(self, max_jobs: int = 100_000) -> int:
        done = 0
        while done < max_jobs and self.run_once():
            done += 1
        return done

    def _run(self, claimed: Job) -> None:
        run_claimed(self.engine, self.models, claimed, self.worker_id, self.metrics)

    def _heartbeat(self, job_id: int):
        return heartbeat_while(self.engine, job_id, self.worker_id, self.lease_seconds / 4)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name=self.worker_id,
                                        daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        """Stops after the job in hand (a rolling restart's SIGTERM)."""
        self._stop.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                if (self._last_recovery is None
                        or time.monotonic() - self._last_recovery > self.lease_seconds / 2):
                    self.recover()
                busy = self.run_once()
            except Exception:  # the database may be briefly unavailable: keep polling
                log.exception("worker poll failed")
                busy = False
            if not busy:
                self._stop.wait(self.poll_seconds)


def in_process_workers(engine: Engine, models: Models, settings, metrics=None) -> list:
    """The runners an API process (or a one-shot command) uses; the first one drains the
    queue (`run_until_idle`). SQLite: one worker for every kind, and a lane for calls only,
    so that a call is processed while a long rebuild runs. PostgreSQL: a procrastinate
    worker (app/pg_worker.py), whose priorities and concurrency do the same."""
    if engine.dialect.name == "postgresql":
        from app.pg_worker import TicketWorker

        return [TicketWorker(engine, models, lease_seconds=settings.worker_lease_seconds,
                             concurrency=settings.worker_concurrency, name="api",
                             metrics=metrics)]
    common = {"lease_seconds": settings.worker_lease_seconds, "metrics": metrics}
    return [Worker(engine, models, settings.worker_poll_seconds, name="all", **common),
            Worker(engine, models, settings.worker_poll_seconds, kinds=CALL_KINDS,
                   name="calls", **common)]


def run_claimed(engine: Engine, models: Models, claimed: Job, worker_id: str,
                metrics=None) -> str:
    """Runs a job `worker_id` has claimed and settles it while it still holds it: "done",
    "error" (the failure is recorded on the job: queued again or failed), or "lease_lost"
    (another worker holds it now: this run is rolled back)."""
    extra = {"job_id": claimed.id, "call_id": claimed.call_id, "kind": claimed.kind,
             "worker_id": worker_id}
    log.info("job %s (%s) started", claimed.id, claimed.kind, extra=extra)
    started = time.perf_counter()
    try:
        with session_scope(engine) as session:
            job = session.get(Job, claimed.id)
            if job is None:
                return "done"
            run_job(session=session, job=job, models=models)
            complete(session=session, job_id=job.id, worker_id=worker_id)
        outcome = "done"
    except LeaseLost:
        log.warning("job %s was taken back from this worker: its result is dropped",
                    claimed.id, extra=extra)
        outcome = "lease_lost"
    except Exception as exc:  # any failure is recorded on the job, never lost
        log.exception("job %s failed", claimed.id, extra=extra)
        with session_scope(engine) as session:
            fail(session=session, job_id=claimed.id, worker_id=worker_id,
                 error=f"{type(exc).__name__}: {exc}"[:4000])
        outcome = "error"
    seconds = time.perf_counter() - started
    if metrics is not None:
        metrics.job_seconds.labels(claimed.kind, outcome).observe(seconds)
    if outcome == "done":
        log.info("job %s done in %.2f s", claimed.id, seconds, extra={**extra, "seconds": seconds})
    return outcome


@contextmanager
def heartbeat_while(engine: Engine, job_id: int, worker_id: str,
                    every_seconds: float) -> Iterator[None]:
    """Renews the job's heartbeat from a side thread while the block runs: the proof that
    its holder is alive, whatever else is slow (a loaded machine, a stopping worker)."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(every_seconds):
            try:
                with session_scope(engine) as session:
                    if not heartbeat(session=session, job_id=job_id, worker_id=worker_id):
                        return
            except Exception:  # the database may be briefly unavailable: try again
                log.exception("heartbeat of job %s failed", job_id)

    thread = threading.Thread(target=beat, name=f"heartbeat-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
