from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from app.deps import RowId, SessionDep, SettingsDep, WorkspaceDep
from app.routes.body import read_limited
from app.schemas import Accepted, CallOut, MentionOut, NativeCall
from app.services import calls as calls_service
from app.services.calls import IngestResult
from app.services.ingest import ingest_batch, ingest_bytes
from models.base import MAX_ID
from pipelines.formats import FORMATS
from pipelines.types import CallMeta

router = APIRouter(tags=["calls"])

_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": NativeCall.model_json_schema(
                ref_template="#/components/schemas/{model}")},
            "text/vtt": {"schema": {"type": "string"}},
            "application/x-subrip": {"schema": {"type": "string"}},
            "text/plain": {"schema": {"type": "string"}},
            "multipart/form-data": {"schema": {"type": "object", "properties": {
                "file": {"type": "string", "format": "binary"}}}},
        },
    }
}


def accepted(result: IngestResult) -> Accepted:
    """What a stored call answers: queued (new), replaced (changed) or unchanged (re-post)."""
    status = "replaced" if result.replaced else ("queued" if result.created else "unchanged")
    return Accepted(call_id=result.call.id, job_id=result.job.id if result.job else None,
                    external_id=result.call.external_id, status=status)


def respond(result: IngestResult, response: Response) -> Accepted:
    """202 when work was queued, 200 for an idempotent re-post."""
    body = accepted(result)
    response.status_code = 200 if body.status == "unchanged" else 202
    return body


@router.post("/calls", response_model=Accepted, status_code=202, openapi_extra=_BODY_DOC,
             responses={200: {"model": Accepted, "description": "unchanged: already stored"}})
async def post_call(
    request: Request, response: Response, session: SessionDep, workspace: WorkspaceDep,
    settings: SettingsDep,
    format: Annotated[Literal[FORMATS] | None, Query(description="force a format")] = None,  # type: ignore[valid-type]
    external_id: str | None = None, title: str | None = None, account: str | None = None,
    deal_stage: str | None = None, outcome: Literal["won", "lost", "open"] | None = None,
    started_at: datetime | None = None, tags: Annotated[list[str] | None, Query()] = None,
) -> Accepted:
    """Store a transcript (native JSON, WebVTT, SRT, plain text or a recorder's JSON export)
    and queue it for processing. Re-posting the same `external_id` never duplicates a call;
    changed content replaces the old version. Metadata in query parameters wins."""
    body, content_type = await read_limited(request, settings.max_body_bytes)
    meta = CallMeta(external_id=external_id, title=title, account=account,
                    deal_stage=deal_stage, outcome=outcome, started_at=started_at,
                    tags=tuple(tags or ()))
    result = await run_in_threadpool(
        ingest_bytes, session=session, workspace_id=workspace.id, body=body,
        content_type=content_type, fmt=format, meta=meta, settings=settings)
    return respond(result, response)


@router.post("/calls:batch")
async def post_calls_batch(request: Request, session: SessionDep, workspace: WorkspaceDep,
                           settings: SettingsDep) -> dict:
    """Store up to 100 JSON transcripts (`{"calls": [...]}`); one result per item, in order."""
    body, _ = await read_limited(request, settings.max_body_bytes)
    items = await run_in_threadpool(ingest_batch, session=session, workspace_id=workspace.id,
                                    body=body, settings=settings)
    results = []
    for item in items:
        if item.error is not None:
            results.append({"index": item.index, "error": item.error.code,
                            "message": item.error.message, "detail": item.error.detail})
        else:
            results.append({"index": item.index, **accepted(item.result).model_dump()})
    return {"results": results}


@router.get("/calls")
def list_calls(session: SessionDep, workspace: WorkspaceDep,
               limit: Annotated[int, Query(ge=1, le=500)] = 50,
               offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> dict:
    """Calls of the workspace, newest first."""
    rows = calls_service.list_calls(session=session, workspace_id=workspace.id,
                                    limit=limit, offset=offset)
    return {"items": [{"id": c.id, "external_id": c.external_id, "title": c.title,
                       "account": c.account, "started_at": c.started_at, "status": c.status,
                       "outcome": c.outcome} for c in rows]}


@router.get("/calls/{call_id}", response_model=CallOut)
def read_call(call_id: RowId, session: SessionDep, workspace: WorkspaceDep) -> CallOut:
    """A call with its processing status, participants, utterances and mentions."""
    call = calls_service.get_call(session=session, workspace_id=workspace.id, call_id=call_id)
    return CallOut(
        **call.model_dump(include=set(CallOut.model_fields) - {
            "participants", "utterances", "mentions"}),
        participants=calls_service.participants(session=session, call_id=call.id),
        utterances=calls_service.utterances(session=session, call_id=call.id),
        mentions=calls_service.mentions(session=session, call_id=call.id),
    )


@router.get("/calls/{call_id}/mentions", response_model=list[MentionOut])
def read_call_mentions(call_id: RowId, session: SessionDep,
                       workspace: WorkspaceDep) -> list[MentionOut]:
    """The objections, questions and pain phrases extracted from a call, as exact quotes."""
    call = calls_service.get_call(session=session, workspace_id=workspace.id, call_id=call_id)
    rows = calls_service.mentions(session=session, call_id=call.id)
    return [MentionOut.model_validate(m, from_attributes=True) for m in rows]
