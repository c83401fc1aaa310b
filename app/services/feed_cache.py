"""Feed answers kept while what they summarise is unchanged, so many readers cost one computation.

An answer is keyed by the workspace's feed version (bumped in the same transaction as every
change to the feed's summary tables, app/services/rollups.py) and the request's parameters, and
lives at most TTL seconds: recency and trend move with the clock, and a new call's outcome shifts
the workspace's loss rate before the call is processed. Readers of one key wait for the first
one's computation instead of repeating it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

TTL_SECONDS = 30.0
CAPACITY = 512


class FeedCache:
    def __init__(self, *, ttl_seconds: float = TTL_SECONDS, capacity: int = CAPACITY) -> None:
        self._ttl, self._capacity = ttl_seconds, capacity
        self._answers: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._computing: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        found = self._fresh(key)
        if found is not None:
            return found
        with self._lock:
            gate = self._computing.setdefault(key, threading.Lock())
        with gate:
            found = self._fresh(key)  # computed while this reader waited
            if found is None:
                found = compute()
                self._store(key, found)
        with self._lock:
            self._computing.pop(key, None)
        return found

    def _fresh(self, key: Hashable) -> Any:
        with self._lock:
            entry = self._answers.get(key)
            if entry is None or time.monotonic() - entry[0] > self._ttl:
                return None
            self._answers.move_to_end(key)
            return entry[1]

    def _store(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._answers[key] = (time.monotonic(), value)
            self._answers.move_to_end(key)
            while len(self._answers) > self._capacity:
                self._answers.popitem(last=False)
