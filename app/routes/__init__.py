"""All HTTP routes under /v1."""

from fastapi import APIRouter

from app.routes import calls, clusters, feed, jobs

api_router = APIRouter(prefix="/v1")
for module in (calls, jobs, feed, clusters):
    api_router.include_router(module.router)
