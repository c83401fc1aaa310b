"""What the pages depend on: a signed-in workspace, and a CSRF token on every form post."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Form, Request

from app.deps import SessionDep
from app.errors import VerbatimError
from app.web.session import workspace_for_key
from models import Workspace


class LoginRequired(Exception):
    """The page needs a signed-in workspace; the page route turns this into a redirect."""


class CsrfFailed(VerbatimError):
    status_code = 403
    code = "csrf_failed"


def page_workspace(request: Request, session: SessionDep) -> Workspace:
    key_id = request.session.get("key_id")
    workspace = (workspace_for_key(session=session, key_id=key_id)
                 if isinstance(key_id, int) else None)
    if workspace is None:
        request.session.pop("key_id", None)
        raise LoginRequired
    request.state.workspace = workspace
    return workspace


def verify_csrf(request: Request, csrf: Annotated[str, Form()] = "") -> None:
    expected = request.session.get("csrf")
    if not isinstance(expected, str) or not secrets.compare_digest(expected, csrf):
        raise CsrfFailed("the form expired: reload the page and try again")


PageWorkspaceDep = Annotated[Workspace, Depends(page_workspace)]
CsrfDep = Annotated[None, Depends(verify_csrf)]
