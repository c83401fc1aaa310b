from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from fastapi.concurrency import run_in_threadpool

from app.deps import SessionDep, SettingsDep, WorkspaceDep
from app.errors import VerbatimError
from app.routes.body import read_limited
from app.routes.calls import respond
from app.schemas import Accepted
from app.services.hooks import rotate_secret, verify
from app.services.ingest import ingest_bytes
from pipelines.formats import FORMATS
from pipelines.types import CallMeta

router = APIRouter(tags=["webhooks"])


@router.post("/hooks/secret")
def new_webhook_secret(session: SessionDep, workspace: WorkspaceDep) -> dict:
    """Create (or rotate) the workspace's webhook signing secret; shown once."""
    return {"workspace_id": workspace.id,
            "secret": rotate_secret(session=session, workspace=workspace)}


@router.post("/hooks/{source}", response_model=Accepted, status_code=202)
async def receive_hook(
    source: str, request: Request, response: Response, session: SessionDep,
    settings: SettingsDep,
    x_verbatim_workspace: Annotated[str | None, Header()] = None,
    x_verbatim_timestamp: Annotated[str | None, Header()] = None,
    x_verbatim_signature: Annotated[str | None, Header()] = None,
) -> Accepted:
    """A recorder's push. Signed with `X-Verbatim-Signature: sha256=HMAC(secret, ts + "." +
    body)` and `X-Verbatim-Timestamp` (Unix seconds, 5 minutes tolerance). `source` names the
    format (gong, chorus, avoma, fireflies, clari, stt, vtt, srt, text, native) or `auto`.
    Re-delivery is idempotent; changed content for a known call replaces it atomically."""
    fmt = None if source == "auto" else source
    if fmt is not None and fmt not in FORMATS:
        raise VerbatimError(f"unknown source {source!r}", code="unknown_source",
                            detail={"source": source, "known": ["auto", *FORMATS]})
    body, content_type = await read_limited(request, settings.max_body_bytes)
    workspace = verify(session=session, workspace_ref=x_verbatim_workspace,
                       timestamp=x_verbatim_timestamp, signature=x_verbatim_signature,
                       body=body, tolerance_s=settings.webhook_tolerance_seconds)
    result = await run_in_threadpool(
        ingest_bytes, session=session, workspace_id=workspace.id, body=body,
        content_type=content_type, fmt=fmt, meta=CallMeta(), settings=settings)
    return respond(result, response)
