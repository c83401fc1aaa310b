"""The marketer's web pages, server-rendered in the same app as the API."""

from fastapi import APIRouter

from app.web import auth, calls, clusters, exports, feed, search
from app.web.session import CookieSessionMiddleware, session_secret
from app.web.templating import STATIC_DIR

web_router = APIRouter()
for module in (auth, feed, clusters, calls, search, exports):
    web_router.include_router(module.router)

__all__ = ["STATIC_DIR", "CookieSessionMiddleware", "session_secret", "web_router"]
