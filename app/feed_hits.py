"""The feed's cache hits, answered before FastAPI's routing, dependencies and threadpool.

A hit of `GET /v1/feed/{kind}` costs one indexed query (the key's workspace and its current
feed version; a revoked key finds nothing) and one dictionary look-up of the raw request the
route already validated (app/services/feed_cache.py). On PostgreSQL the query's answer is
remembered while a listener hears every change to it (app/feed_signals.py), so most hits cost
no round trip at all. Anything else — no key, an unknown or
revoked key, a request not answered before, a version moved on, an expired answer, a database
hiccup — goes down the normal route, which validates, authenticates, computes and files the
answer, and renders every error exactly as before.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from sqlalchemy.engine import Engine
from starlette.types import ASGIApp, Receive, Scope, Send

from app.feed_signals import (
    CHANNEL,
    FEED_CHANGED,
    KEYS_CHANGED,
    hear_locally,
    parse,
    stop_hearing_locally,
)
from app.security import hash_key
from app.services.feed_cache import etag_matches
from models import ApiKey, Workspace

log = logging.getLogger("verbatim")

FEED_PATHS = frozenset(f"/v1/feed/{kind}" for kind in ("objections", "questions", "pains"))
ROUTE = "/v1/feed/{kind}"  # the metrics label the route itself is counted under


def alias(workspace_id: int, feed_version: int, path: str, query_string: bytes) -> tuple:
    """The cache alias of a raw feed request: what the route files and the fast path finds."""
    return ("api-raw", workspace_id, feed_version, path, query_string)


class KeyLookup:
    """An API key's workspace and feed version in one indexed query, on a connection of its own.

    The connection is the driver's own, opened beside the app's pool (never taken from it: a
    full pool must not stall the event loop) in autocommit mode, with short connect and
    statement timeouts: one round trip a request, no checkout, ping or rollback. It is used only
    from the event loop's thread. After a failure the fast path stands aside for RETRY_SECONDS,
    and every request takes the normal route, which reports the trouble.
    """

    RETRY_SECONDS = 5.0
    TIMEOUT_SECONDS = 0.25

    def __init__(self, engine: Engine, *, listen: bool | None = None) -> None:
        self._engine = engine
        self._conn: Any = None
        self._resting_until = 0.0
        listen = engine.dialect.name == "postgresql" if listen is None else listen
        self.memory = Memory(engine) if listen else None
        mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        query = (f"SELECT w.id, w.feed_version, w.name FROM {ApiKey.__tablename__} k "
                 f"JOIN {Workspace.__tablename__} w ON w.id = k.workspace_id "
                 "WHERE k.revoked_at IS NULL AND ")
        self._by_hash, self._by_id = query + f"k.key_hash = {mark}", query + f"k.id = {mark}"

    def find(self, key: str) -> tuple[int, int] | None:
        """The workspace id and feed version of an API key (a bearer token)."""
        row = self._remembered(self._by_hash, hash_key(key))
        return None if row is None else (int(row[0]), int(row[1]))

    def find_by_id(self, key_id: int) -> tuple[int, int, str] | None:
        """The workspace id, feed version and name of a key's row (what a page session holds)."""
        row = self._remembered(self._by_id, key_id)
        return None if row is None else (int(row[0]), int(row[1]), str(row[2]))

    def _remembered(self, sql: str, value: Any) -> tuple | None:
        if self.memory is None:
            return self._one(sql, value)
        found, generation = self.memory.recall((sql, value))
        if found is None:
            found = self._one(sql, value)
            if found is not None:
                self.memory.keep((sql, value), found, generation)
        return found

    def _one(self, sql: str, value: Any) -> tuple | None:
        if time.monotonic() < self._resting_until:
            return None
        try:
            cursor = self._connection().cursor()
            cursor.execute(sql, (value,))
            row = cursor.fetchone()
            cursor.close()
        except Exception:  # the normal route reports it; the next try reconnects
            log.warning("feed fast path: key look-up failed; the route answers for %.0f s",
                        self.RETRY_SECONDS, exc_info=True)
            self.close()
            self._resting_until = time.monotonic() + self.RETRY_SECONDS
            return None
        return row

    def _connection(self) -> Any:
        if self._conn is None:
            dialect = self._engine.dialect
            cargs, cparams = dialect.create_connect_args(self._engine.url)
            timeout_ms = int(self.TIMEOUT_SECONDS * 1000)
            if dialect.name == "sqlite":
                cparams.update(timeout=self.TIMEOUT_SECONDS, check_same_thread=False,
                               isolation_level=None)
            else:
                cparams.update(connect_timeout=2, autocommit=True,
                               options=f"-c statement_timeout={timeout_ms}")
            self._conn = dialect.loaded_dbapi.connect(*cargs, **cparams)
        return self._conn

    def close(self) -> None:
        if self.memory is not None:
            self.memory.stop()
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                conn.close()
            except Exception:
                log.debug("feed fast path: closing its connection failed", exc_info=True)


class Memory:
    """Key look-ups remembered while a listener on CHANNEL hears every change that could alter
    them: a notification about a workspace forgets its rows. Nothing is remembered while the
    listener is not connected, and a row read while any notification arrived is not kept (it may
    predate it). A change is heard a fraction of a millisecond after its commit; a change made
    behind the app's back (SQL by hand, no notification) is seen within MAX_AGE_SECONDS, the
    longest a row is remembered."""

    RECONNECT_SECONDS = 2.0
    MAX_AGE_SECONDS = 5.0

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._rows: dict[Any, tuple[float, tuple]] = {}  # key -> (kept at, row)
        self._generation = 0  # moves on every notification and every (re)connection
        self._listening = False
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._conn: Any = None
        self._thread = threading.Thread(target=self._listen, name="feed-listener", daemon=True)
        self._thread.start()
        hear_locally(self)  # this process's own commits are forgotten before they return

    def recall(self, key: Any) -> tuple[tuple | None, int | None]:
        """The remembered row, or None and the generation to hand back to keep()."""
        with self._lock:
            if not self._listening:
                return None, None
            kept = self._rows.get(key)
            if kept is None or time.monotonic() - kept[0] > self.MAX_AGE_SECONDS:
                return None, self._generation
            return kept[1], self._generation

    def keep(self, key: Any, row: tuple, generation: int | None) -> None:
        with self._lock:
            if self._listening and generation == self._generation:
                self._rows[key] = (time.monotonic(), row)

    def listening(self) -> bool:
        with self._lock:
            return self._listening

    def stop(self) -> None:
        stop_hearing_locally(self)
        self._stopping.set()  # the listener wakes within a quarter second to see it
        self._thread.join(timeout=5)

    def forget(self, workspace_id: int | None) -> None:
        with self._lock:
            self._generation += 1
            if workspace_id is None:
                self._rows.clear()
            else:
                self._rows = {k: kept for k, kept in self._rows.items()
                              if int(kept[1][0]) != workspace_id}

    def _listen(self) -> None:
        dialect = self._engine.dialect
        while not self._stopping.is_set():
            try:
                cargs, cparams = dialect.create_connect_args(self._engine.url)
                cparams.update(connect_timeout=2, autocommit=True)
                self._conn = dialect.loaded_dbapi.connect(*cargs, **cparams)
                self._conn.execute(f"LISTEN {CHANNEL}")
                self.forget(None)
                with self._lock:
                    self._listening = True
                while not self._stopping.is_set():
                    for note in self._conn.notifies(timeout=0.25):
                        signal = parse(note.payload)
                        if signal is not None and signal[0] in (FEED_CHANGED, KEYS_CHANGED):
                            self.forget(signal[1])
                        else:
                            self.forget(None)
            except Exception:
                if not self._stopping.is_set():
                    log.warning("feed listener: connection lost; looking keys up per request",
                                exc_info=True)
            finally:
                with self._lock:
                    self._listening = False
                    self._rows.clear()
                    self._generation += 1
                if self._conn is not None:
                    try:
                        self._conn.close()
                    except Exception:
                        log.debug("feed listener: close failed", exc_info=True)
                    self._conn = None
            self._stopping.wait(self.RECONNECT_SECONDS)


class FeedHits:
    """ASGI middleware: serves a fresh cached feed answer, or a 304 when the client has it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] not in FEED_PATHS:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = scope["app"].state
        found = _hit(scope, state)
        if found is None:
            await self.app(scope, receive, send)
            return
        answer, if_none_match = found
        if etag_matches(if_none_match, answer.etag):
            status, body = 304, b""
            headers = [(b"etag", answer.etag.encode())]
        else:
            status, body = 200, answer.body
            headers = [(b"content-length", str(len(body)).encode()),
                       (b"content-type", b"application/json"), (b"etag", answer.etag.encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        state.metrics.requests.labels("GET", ROUTE, str(status)).observe(
            time.perf_counter() - started)


def _hit(scope: Scope, state: Any) -> tuple[Any, str | None] | None:
    key, if_none_match = _headers(scope)
    if not key:
        return None
    lookup = getattr(state, "key_lookup", None)
    found = lookup.find(key) if lookup is not None else None
    if found is None:
        return None
    answer = state.feed_cache.peek(alias(*found, scope["path"], scope["query_string"]))
    return None if answer is None else (answer, if_none_match)


def _headers(scope: Scope) -> tuple[str | None, str | None]:
    """The bearer key (as FastAPI's HTTPBearer reads it) and If-None-Match."""
    key = if_none_match = None
    for name, value in scope["headers"]:
        if name == b"authorization" and key is None:
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            key = credentials.strip() if scheme.lower() == "bearer" else ""
        elif name == b"if-none-match" and if_none_match is None:
            if_none_match = value.decode("latin-1")
    return key, if_none_match
