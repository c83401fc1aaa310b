"""The app factory: models and the worker start in the lifespan, never at import time."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.db import make_engine, migrate
from app.errors import install_handlers
from app.feed_hits import FeedHits, KeyLookup
from app.metrics import Metrics, install_metrics
from app.nlp import Models, load_models
from app.openapi import install_openapi
from app.routes import api_router
from app.services.feed_cache import FeedCache
from app.settings import Settings
from app.web import STATIC_DIR, CookieSessionMiddleware, session_secret, web_router
from app.web.feed_hits import PageHits
from app.worker import in_process_workers

log = logging.getLogger("verbatim")

DESCRIPTION = """
verbatim turns sales-call transcripts into a ranked feed of customer objections, questions and
pain phrases, each backed by exact quotes. Authenticate with `Authorization: Bearer <API key>`.
"""


def create_app(settings: Settings | None = None, models: Models | None = None) -> FastAPI:
    """Builds the app; pass `models` to reuse already loaded ones (tests, the demo)."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        migrate(engine)
        app.state.engine = engine
        app.state.settings = settings
        app.state.feed_cache = FeedCache(ttl_seconds=settings.feed_cache_seconds)
        app.state.key_lookup = KeyLookup(engine)
        started = time.perf_counter()
        app.state.models = models or load_models()
        metrics.model_load.set(time.perf_counter() - started)
        metrics.watch_jobs(engine)
        workers = in_process_workers(engine, app.state.models, settings, metrics=metrics)
        app.state.worker = workers[0]
        if settings.runs_jobs_in_process():
            for worker in workers:
                worker.start()
        try:
            yield
        finally:
            for worker in workers:
                worker.stop()
            app.state.key_lookup.close()
            engine.dispose()

    app = FastAPI(title="verbatim", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    install_handlers(app)
    install_openapi(app)
    metrics = Metrics()
    install_metrics(app, metrics)
    app.include_router(api_router)
    app.add_middleware(PageHits)  # inside the session middleware: it reads the reader's session
    app.add_middleware(CookieSessionMiddleware, secret_key=session_secret(settings.session_secret))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(web_router)
    app.add_middleware(FeedHits)  # outermost: a cache hit skips every layer inside it
    return app
