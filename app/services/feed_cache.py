"""Feed answers kept while what they summarise is unchanged, so many readers cost one computation.

An answer is keyed by the workspace's feed version (bumped in the same transaction as every
change to the feed's summary tables, app/services/rollups.py) and the request's parameters, and
lives at most TTL seconds: recency and trend move with the clock, and a new call's outcome shifts
the workspace's loss rate before the call is processed. Readers of one key wait for the first
one's computation instead of repeating it.

An answer can also be filed under an alias: the raw request (path and query string) a route
validated on its way to the key. The fast path (app/feed_hits.py) looks only at aliases, so it
never answers a request the route has not once checked; an alias shares its answer's birth
time, so it expires with it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

TTL_SECONDS = 30.0
CAPACITY = 512


@dataclass(frozen=True)
class Answer:
    """A rendered answer and its entity tag (the version it answers plus a digest of it)."""

    body: bytes
    etag: str


def answer(body: bytes, *, workspace_id: int, feed_version: int) -> Answer:
    digest = hashlib.blake2b(body, digest_size=12).hexdigest()
    return Answer(body=body, etag=f'"{workspace_id}.{feed_version}.{digest}"')


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110's weak comparison of an If-None-Match list against our (strong) tag."""
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


class FeedCache:
    def __init__(self, *, ttl_seconds: float = TTL_SECONDS, capacity: int = CAPACITY) -> None:
        self._ttl, self._capacity = ttl_seconds, capacity
        self._answers: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._computing: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any], *,
                       alias: Hashable | None = None) -> Any:
        entry = self._entry(key)
        if entry is None:
            with self._lock:
                gate = self._computing.setdefault(key, threading.Lock())
            with gate:
                entry = self._entry(key)  # computed while this reader waited
                if entry is None:
                    entry = (time.monotonic(), compute())
                    self._store(key, entry)
            with self._lock:
                self._computing.pop(key, None)
        if alias is not None:
            self._store(alias, entry)
        return entry[1]

    def peek(self, key: Hashable) -> Any:
        """The fresh answer under a key or alias, or None: never computes."""
        entry = self._entry(key)
        return None if entry is None else entry[1]

    def _entry(self, key: Hashable) -> tuple[float, Any] | None:
        with self._lock:
            entry = self._answers.get(key)
            if entry is None or time.monotonic() - entry[0] > self._ttl:
                return None
            self._answers.move_to_end(key)
            return entry

    def _store(self, key: Hashable, entry: tuple[float, Any]) -> None:
        with self._lock:
            self._answers[key] = entry
            self._answers.move_to_end(key)
            while len(self._answers) > self._capacity:
                self._answers.popitem(last=False)
