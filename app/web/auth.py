"""Signing in with a workspace API key, and out again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from app.deps import SessionDep
from app.errors import Unauthorized
from app.web.deps import CsrfDep
from app.web.routing import PageRoute
from app.web.session import sign_in, workspace_for_key
from app.web.templating import csrf_token, templates

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to somewhere else."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def _form(request: Request, *, next_url: str, error: str | None = None) -> Response:
    return templates.TemplateResponse(request, "login.html", {"next": next_url, "error": error})


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, session: SessionDep, next: str = "/") -> Response:
    key_id = request.session.get("key_id")
    if isinstance(key_id, int) and workspace_for_key(session=session, key_id=key_id):
        return RedirectResponse(safe_next(next), status_code=303)
    return _form(request, next_url=safe_next(next))


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, session: SessionDep, _csrf: CsrfDep,
          api_key: Annotated[str, Form(max_length=200)] = "",
          next: Annotated[str, Form()] = "/") -> Response:
    try:
        _workspace, key_id = sign_in(session=session, key=api_key.strip())
    except Unauthorized:
        # the form again, answered 200 like any re-rendered form: the error is on the page
        return _form(request, next_url=safe_next(next),
                     error="That API key is not valid (or was revoked). Check it and try again.")
    # a fresh session on sign-in: nothing from before survives (no session fixation)
    request.session.clear()
    request.session["key_id"] = key_id
    csrf_token(request)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, _csrf: CsrfDep) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
