"""Request dependencies as Annotated aliases; routes only name them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from app.errors import Unauthorized
from app.nlp import Models
from app.services.feed_cache import FeedCache
from app.services.workspaces import authenticate
from app.settings import Settings
from models import Workspace
from models.base import MAX_ID

_bearer = HTTPBearer(auto_error=False, description="A workspace API key (`vb_...`).")


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_workspace(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Workspace:
    if credentials is None or not credentials.credentials:
        raise Unauthorized("missing API key: send 'Authorization: Bearer <key>'")
    return authenticate(session=session, key=credentials.credentials)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_models(request: Request) -> Models:
    return request.app.state.models


def get_feed_cache(request: Request) -> FeedCache:
    return request.app.state.feed_cache


WorkspaceDep = Annotated[Workspace, Depends(get_workspace)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ModelsDep = Annotated[Models, Depends(get_models)]
FeedCacheDep = Annotated[FeedCache, Depends(get_feed_cache)]

# every row id in a path: a number no column can hold is a 422, never a database error
RowId = Annotated[int, Path(ge=1, le=MAX_ID, description="a row id", examples=[1])]
