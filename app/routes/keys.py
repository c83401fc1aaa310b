from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from app.deps import RowId, SessionDep, WorkspaceDep
from app.services.keys import list_keys, revoke_key

router = APIRouter(tags=["keys"])


class KeyOut(BaseModel):
    id: int
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class KeyList(BaseModel):
    items: list[KeyOut]


@router.get("/keys", response_model=KeyList)
def read_keys(session: SessionDep, workspace: WorkspaceDep) -> KeyList:
    """The workspace's API keys: id, first characters, when made, when revoked."""
    rows = list_keys(session=session, workspace_id=workspace.id)
    return KeyList(items=[KeyOut.model_validate(k, from_attributes=True) for k in rows])


@router.delete("/keys/{key_id}", response_model=KeyOut)
def delete_key(key_id: RowId, session: SessionDep, workspace: WorkspaceDep) -> KeyOut:
    """Revoke a key at once (the key used for this request too, if named); web sessions
    signed in with it end."""
    key = revoke_key(session=session, workspace_id=workspace.id, key_id=key_id)
    return KeyOut.model_validate(key, from_attributes=True)
