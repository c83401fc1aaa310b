"""Feed answers kept while what they summarise is unchanged, so many readers cost one computation.

An answer is keyed by the workspace's feed version (bumped in the same transaction as every
change to the feed's summary tables, app/services/rollups.py) and the request's parameters, and
lives at most TTL seconds: recency and trend move with the clock, and a new call's outcome shifts
the workspace's loss rate before the call is processed. Readers of one key wait for the first
one's computation instead of repeating it.

Refreshed ahead of expiry: once an answer has lived REFRESH_SHARE of its TTL, the next reader
recomputes it while every other reader keeps the answer in hand (it is still within its TTL, so
no one is served anything older than before). Only after a quiet spell, when no reader came in
the last part of an answer's life, does anyone wait for a computation of an answer already seen.

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
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

TTL_SECONDS = 30.0
CAPACITY = 512
REFRESH_SHARE = 0.7  # 9 s of a 30 s life to recompute in: a 100k-mention miss takes ~2-5 s


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


@dataclass
class _Entry:
    born: float  # the cache's clock when computed; an alias shares its answer's
    value: Any
    claimed: bool = False  # a fast-path reader was sent down the route to refresh it


class FeedCache:
    def __init__(self, *, ttl_seconds: float = TTL_SECONDS, capacity: int = CAPACITY,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl, self._capacity, self._clock = ttl_seconds, capacity, clock
        self._answers: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._computing: dict[Hashable, tuple[threading.Lock, int]] = {}
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any], *,
                       alias: Hashable | None = None) -> Any:
        entry = self._entry(key)
        if entry is None:
            with self._gate(key) as gate, gate:
                entry = self._entry(key)  # computed while this reader waited
                if entry is None:
                    entry = self._compute(key, compute)
        elif self._due(entry):
            with self._gate(key) as gate:
                if gate.acquire(blocking=False):  # one reader refreshes; the others go on
                    try:
                        entry = self._entry(key) or entry
                        if self._due(entry):
                            entry = self._compute(key, compute)
                    finally:
                        gate.release()
        if alias is not None:
            self._store(alias, _Entry(entry.born, entry.value))
        return entry.value

    def peek(self, key: Hashable) -> Any:
        """The fresh answer under a key or alias, or None: never computes. The first reader to
        find an answer due for its refresh gets None, so it takes the route that refreshes it;
        the readers after it get the answer in hand until the refresh lands or it expires."""
        entry = self._entry(key)
        if entry is None:
            return None
        if self._due(entry):
            with self._lock:
                first, entry.claimed = not entry.claimed, True
            if first:
                return None
        return entry.value

    def _compute(self, key: Hashable, compute: Callable[[], Any]) -> _Entry:
        entry = _Entry(self._clock(), compute())
        self._store(key, entry)
        return entry

    def _due(self, entry: _Entry) -> bool:
        return self._clock() - entry.born > self._ttl * REFRESH_SHARE

    @contextmanager
    def _gate(self, key: Hashable) -> Iterator[threading.Lock]:
        """The lock one key's computation holds: made on first use, dropped with its last user."""
        with self._lock:
            gate, users = self._computing.get(key, (threading.Lock(), 0))
            self._computing[key] = (gate, users + 1)
        try:
            yield gate
        finally:
            with self._lock:
                gate, users = self._computing[key]
                if users == 1:
                    del self._computing[key]
                else:
                    self._computing[key] = (gate, users - 1)

    def _entry(self, key: Hashable) -> _Entry | None:
        with self._lock:
            entry = self._answers.get(key)
            if entry is None or self._clock() - entry.born > self._ttl:
                return None
            self._answers.move_to_end(key)
            return entry

    def _store(self, key: Hashable, entry: _Entry) -> None:
        with self._lock:
            self._answers[key] = entry
            self._answers.move_to_end(key)
            while len(self._answers) > self._capacity:
                self._answers.popitem(last=False)
