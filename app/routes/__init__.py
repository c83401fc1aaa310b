"""All HTTP routes under /v1."""

from fastapi import APIRouter

from app.routes import calls, clusters, export, feed, hooks, jobs, roster, search

api_router = APIRouter(prefix="/v1")
for module in (calls, jobs, feed, clusters, hooks, roster, export, search):
    api_router.include_router(module.router)
