"""The job worker: a thread inside the server by default, or its own process (`verbatim worker`)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.db import session_scope
from app.jobs import run_job
from app.nlp import Models
from app.services.jobs import claim_next, finish, requeue_stale
from models import Job

log = logging.getLogger("verbatim.worker")


class Worker:
    def __init__(self, engine: Engine, models: Models, poll_seconds: float = 0.5) -> None:
        self.engine = engine
        self.models = models
        self.poll_seconds = poll_seconds
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def recover(self) -> int:
        """Jobs a dead process left running are queued again (called once at start)."""
        with session_scope(self.engine) as session:
            return requeue_stale(session=session)

    def run_once(self) -> bool:
        """Claims and runs one job; False when the queue was empty."""
        with Session(self.engine, expire_on_commit=False) as session:
            job = claim_next(session=session, worker_id=self.worker_id)
        if job is None:
            return False
        self._run(job)
        return True

    def run_until_idle(self, max_jobs: int = 100_000) -> int:
        done = 0
        while done < max_jobs and self.run_once():
            done += 1
        return done

    def _run(self, job: Job) -> None:
        error: str | None = None
        try:
            with session_scope(self.engine) as session:
                job = session.merge(job)
                run_job(session=session, job=job, models=self.models)
        except Exception as exc:  # noqa: BLE001 — any failure is recorded on the job, never lost
            log.error("job %s failed: %s", job.id, traceback.format_exc())
            error = f"{type(exc).__name__}: {exc}"
        with session_scope(self.engine) as session:
            job = session.merge(job)
            finish(session=session, job=job, error=error)

    def start(self) -> None:
        self.recover()
        self._thread = threading.Thread(target=self._loop, name="verbatim-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_forever(self) -> None:
        self.recover()
        self._loop()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # the database may be briefly unavailable: keep polling
                log.exception("worker poll failed")
                busy = False
            if not busy:
                self._stop.wait(self.poll_seconds)
