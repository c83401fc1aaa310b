"""Settings read from the environment once, when the app or CLI starts."""

from __future__ import annotations

import os
from dataclasses import dataclass


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///./verbatim.db"
    max_body_bytes: int = 20 * 1024 * 1024
    max_utterances: int = 20_000
    max_utterance_chars: int = 20_000
    worker_enabled: bool = True
    worker_poll_seconds: float = 0.5
    worker_lease_seconds: float = 60.0
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
            webhook_tolerance_seconds=_int("VERBATIM_WEBHOOK_TOLERANCE", 300),
            session_secret=os.environ.get("VERBATIM_SESSION_SECRET", ""),
            feed_cache_seconds=_int("VERBATIM_FEED_CACHE_SECONDS", cls.feed_cache_seconds),
        )
