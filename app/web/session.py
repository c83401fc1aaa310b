"""The signed session cookie of the web pages, and the API key it stands for."""

from __future__ import annotations

import secrets

from sqlmodel import Session, select
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from app.security import hash_key
from app.services.workspaces import authenticate
from models import ApiKey, Workspace

COOKIE = "verbatim_session"
MAX_AGE_SECONDS = 12 * 60 * 60


class CookieSessionMiddleware:
    """Starlette's signed-cookie sessions, HTTP-only and SameSite=Lax; Secure on HTTPS requests.

    Starlette fixes the Secure flag when the middleware is built, so one instance of each kind
    serves its scheme (behind a proxy, uvicorn's --proxy-headers sets the scheme).
    """

    def __init__(self, app: ASGIApp, secret_key: str) -> None:
        options = {"session_cookie": COOKIE, "max_age": MAX_AGE_SECONDS, "same_site": "lax"}
        self._plain = SessionMiddleware(app, secret_key, https_only=False, **options)
        self._secure = SessionMiddleware(app, secret_key, https_only=True, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        secure = scope.get("scheme") in ("https", "wss")
        await (self._secure if secure else self._plain)(scope, receive, send)


def session_secret(configured: str) -> str:
    """The configured secret, or a random one: sessions then last as long as the process."""
    return configured or secrets.token_urlsafe(32)


def sign_in(*, session: Session, key: str) -> tuple[Workspace, int]:
    """The workspace of a valid API key and the key's row id (what the cookie stores)."""
    workspace = authenticate(session=session, key=key)
    key_id = session.exec(select(ApiKey.id).where(ApiKey.key_hash == hash_key(key))).one()
    return workspace, int(key_id)


def workspace_for_key(*, session: Session, key_id: int) -> Workspace | None:
    """The workspace of a key that is still valid; None once the key is revoked."""
    row = session.get(ApiKey, key_id)
    if row is None or row.revoked_at is not None:
        return None
    return session.get(Workspace, row.workspace_id)
