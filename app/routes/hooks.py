from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from fastapi.concurrency import run_in_threadpool

from app.deps import SessionDep, SettingsDep, WorkspaceDep
from app.errors import VerbatimError
from app.routes.body import read_limited
from app.schemas import Accepted
from app.services.hooks import (
    check_headers,
    receive,
    rotate_secret,
    signing_workspace,
    verify_body,
)
from pipelines.formats import FORMATS

router = APIRouter(tags=["webhooks"])


@router.post("/hooks/secret")
def new_webhook_secret(session: SessionDep, workspace: WorkspaceDep) -> dict:
    """Create (or rotate) the workspace's webhook signing secret; shown once."""
    return {"workspace_id": workspace.id,
            "secret": rotate_secret(session=session, workspace=workspace)}


@router.post("/hooks/{source}", response_model=Accepted, status_code=202, responses={
    200: {"model": Accepted, "description": "unchanged, a replayed delivery, or stale"}})
async def receive_hook(
    source: str, request: Request, response: Response, session: SessionDep,
    settings: SettingsDep,
    x_verbatim_workspace: Annotated[str | None, Header()] = None,
    x_verbatim_timestamp: Annotated[str | None, Header()] = None,
    x_verbatim_signature: Annotated[str | None, Header()] = None,
    x_verbatim_delivery: Annotated[str | None, Header(
        description="the delivery's id, the same on every retry")] = None,
) -> Accepted:
    """A recorder's push. Signed with `X-Verbatim-Signature: sha256=HMAC(secret, ts + "." +
    body)` and `X-Verbatim-Timestamp` (Unix seconds, 5 minutes tolerance); `X-Verbatim-Delivery`
    names the delivery. `source` names the format (gong, chorus, avoma, fireflies, clari, stt,
    vtt, srt, text, native) or `auto`. A replayed delivery id is a no-op; changed content for a
    known call replaces it atomically, unless it was signed before the version the call holds
    (status `stale`)."""
    fmt = None if source == "auto" else source
    if fmt is not None and fmt not in FORMATS:
        raise VerbatimError(f"unknown source {source!r}", code="unknown_source",
                            detail={"source": source, "known": ["auto", *FORMATS]})
    signed = check_headers(workspace_ref=x_verbatim_workspace, timestamp=x_verbatim_timestamp,
                           signature=x_verbatim_signature, delivery_id=x_verbatim_delivery,
                           tolerance_s=settings.webhook_tolerance_seconds)
    workspace = signing_workspace(session=session, signed=signed)
    body, content_type = await read_limited(request, settings.max_body_bytes)
    verify_body(workspace=workspace, signed=signed, body=body)
    result = await run_in_threadpool(
        receive, session=session, workspace_id=workspace.id, signed=signed, body=body,
        content_type=content_type, fmt=fmt, settings=settings)
    response.status_code = 202 if result.status in ("queued", "replaced") else 200
    return Accepted(call_id=result.call.id, job_id=result.job.id if result.job else None,
                    external_id=result.call.external_id, status=result.status)
