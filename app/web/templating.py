"""The templates of the web pages and the small formatting filters they use."""

from __future__ import annotations

import os
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates

from app.services.export import mmss

APP_DIR = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = APP_DIR / "templates"
STATIC_DIR = APP_DIR / "static"

KIND_NAMES = {"objection": "Objection", "question": "Question", "pain": "Pain phrase"}


def day(value: datetime | None) -> str:
    return f"{value:%b} {value.day}, {value.year}" if value else ""


def percent(value: float | None) -> str:
    return "–" if value is None else f"{round(100 * value)}%"


def csrf_token(request: Request) -> str:
    """The session's token for form posts, created on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return token


def static_url(name: str) -> str:
    """A static file's URL, versioned by its mtime so a deploy busts the browser cache."""
    # one stat, no Path objects: the feed's kept shell checks its links on every request
    try:
        version = int(os.stat(os.path.join(STATIC_DIR, name)).st_mtime)
    except FileNotFoundError:
        version = 0
    return f"/static/{name}?v={version}"


def _page_globals(request: Request) -> dict[str, Any]:
    return {"workspace": getattr(request.state, "workspace", None),
            "csrf_token": lambda: csrf_token(request), "path": request.url.path}


templates = Jinja2Templates(directory=TEMPLATES_DIR, context_processors=[_page_globals])
templates.env.filters.update(mmss=mmss, day=day, percent=percent)
templates.env.globals.update(static_url=static_url, kind_names=KIND_NAMES)
