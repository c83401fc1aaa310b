"""All HTTP routes under /v1."""

from fastapi import APIRouter

from app.routes import (
    calls,
    clusters,
    export,
    extract,
    feed,
    hooks,
    jobs,
    keys,
    roster,
    search,
)

api_router = APIRouter(prefix="/v1")
for module in (calls, jobs, feed, clusters, hooks, roster, export, search, extract, keys):
    api_router.include_router(module.router)
