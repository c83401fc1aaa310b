"""Settings read from the environment once, when the app or CLI starts."""

from __future__ import annotations

import os
from dataclasses import dataclass


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _bool(name: str, default: bool | None) -> bool | None:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///./verbatim.db"
    max_body_bytes: int = 20 * 1024 * 1024
    max_utterances: int = 20_000
    max_utterance_chars: int = 20_000
    # None: the API process runs jobs itself on SQLite, and leaves them to `verbatim worker`
    # processes on PostgreSQL; VERBATIM_WORKER=1 or 0 decides either way
    worker_enabled: bool | None = None
    worker_poll_seconds: float = 0.5
    worker_lease_seconds: float = 60.0
    worker_concurrency: int = 2  # jobs one PostgreSQL worker process runs at once
    webhook_tolerance_seconds: int = 300
    session_secret: str = ""
    feed_cache_seconds: int = 30  # 0: every feed request is computed afresh

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=os.environ.get("VERBATIM_DATABASE_URL", cls.database_url),
            max_body_bytes=_int("VERBATIM_MAX_BODY_BYTES", cls.max_body_bytes),
            max_utterances=_int("VERBATIM_MAX_UTTERANCES", cls.max_utterances),
            max_utterance_chars=_int("VERBATIM_MAX_UTTERANCE_CHARS", cls.max_utterance_chars),
            worker_enabled=_bool("VERBATIM_WORKER", cls.worker_enabled),
            worker_lease_seconds=float(_int("VERBATIM_WORKER_LEASE", 60)),
            worker_concurrency=_int("VERBATIM_WORKER_CONCURRENCY", cls.worker_concurrency),
            webhook_tolerance_seconds=_int("VERBATIM_WEBHOOK_TOLERANCE", 300),
            session_secret=os.environ.get("VERBATIM_SESSION_SECRET", ""),
            feed_cache_seconds=_int("VERBATIM_FEED_CACHE_SECONDS", cls.feed_cache_seconds),
        )

    def runs_jobs_in_process(self) -> bool:
        if self.worker_enabled is not None:
            return self.worker_enabled
        return not self.database_url.startswith("postgres")
