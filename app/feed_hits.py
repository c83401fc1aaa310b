"""The feed's cache hits, answered before FastAPI's routing, dependencies and threadpool.

A hit of `GET /v1/feed/{kind}` costs one indexed query (the key's workspace and its current
feed version; a revoked key finds nothing) and one dictionary look-up of the raw request the
route already validated (app/services/feed_cache.py). Anything else — no key, an unknown or
revoked key, a request not answered before, a version moved on, an expired answer, a database
hiccup — goes down the normal route, which validates, authenticates, computes and files the
answer, and renders every error exactly as before.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy.engine import Engine
from starlette.types import ASGIApp, Receive, Scope, Send

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

    The connection lives outside the pool in autocommit mode: one round trip a request, no
    pool checkout, ping or rollback. It is used only from the event loop's thread.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Any = None
        mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        query = (f"SELECT w.id, w.feed_version, w.name FROM {ApiKey.__tablename__} k "
                 f"JOIN {Workspace.__tablename__} w ON w.id = k.workspace_id "
                 "WHERE k.revoked_at IS NULL AND ")
        self._by_hash, self._by_id = query + f"k.key_hash = {mark}", query + f"k.id = {mark}"

    def find(self, key: str) -> tuple[int, int] | None:
        """The workspace id and feed version of an API key (a bearer token)."""
        row = self._one(self._by_hash, hash_key(key))
        return None if row is None else (int(row[0]), int(row[1]))

    def find_by_id(self, key_id: int) -> tuple[int, int, str] | None:
        """The workspace id, feed version and name of a key's row (what a page session holds)."""
        row = self._one(self._by_id, key_id)
        return None if row is None else (int(row[0]), int(row[1]), str(row[2]))

    def _one(self, sql: str, value: Any) -> tuple | None:
        try:
            cursor = self._connection().cursor()
            cursor.execute(sql, (value,))
            row = cursor.fetchone()
            cursor.close()
        except Exception:  # the normal route reports it; the next hit reconnects
            log.warning("feed fast path: key look-up failed", exc_info=True)
            self.close()
            return None
        return row

    def _connection(self) -> Any:
        if self._conn is None:
            fairy = self._engine.raw_connection()
            driver = fairy.driver_connection
            fairy.detach()  # closed for good on close(), never handed back to the pool
            if self._engine.dialect.name == "sqlite":
                driver.isolation_level = None
            else:
                driver.autocommit = True
            self._conn = fairy
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                conn.close()
            except Exception:
                log.debug("feed fast path: closing its connection failed", exc_info=True)


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
