"""The feed page's cache hits, answered before FastAPI's routing, dependencies and threadpool.

It sits inside the session middleware, so the reader's session (and its cookie) is handled as
for any page. A hit costs one indexed query (the session's key, still valid, and its workspace's
feed version) and two splices into a shell rendered once per query: the reader's CSRF token
and the cached view (app/web/feed.py). A signed-out reader, a revoked key, a view not cached at
this version, an empty feed (whose counts are read afresh) or a rebuild's progress (?job=) go
down the normal route.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.web.feed import render_page, view_key
from app.web.filters import feed_query
from app.web.routing import SECURITY_HEADERS
from models.base import utcnow


@dataclass(frozen=True)
class SignedIn:
    """What the page's shell shows of the workspace (a table row costs ~0.3 ms to build)."""

    id: int
    name: str


class PageHits:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] != "/":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        response = _hit(Request(scope, receive))
        if response is None:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)
        scope["app"].state.metrics.requests.labels("GET", "/", str(response.status_code)) \
            .observe(time.perf_counter() - started)


def _hit(request: Request) -> Response | None:
    key_id = request.session.get("key_id")
    lookup = getattr(request.app.state, "key_lookup", None)
    if not isinstance(key_id, int) or lookup is None or "job" in request.query_params:
        return None
    found = lookup.find_by_id(key_id)
    if found is None:
        return None
    workspace_id, feed_version, name = found
    query = feed_query(request.scope["query_string"])
    view = request.app.state.feed_cache.peek(view_key(workspace_id, feed_version, query, utcnow()))
    if view is None or not view.has_sections:
        return None
    request.state.workspace = SignedIn(id=workspace_id, name=name)
    response = render_page(request, query=query, view=view, progress=view.progress, job=None)
    for header, value in SECURITY_HEADERS.items():
        response.headers.setdefault(header, value)
    return response
