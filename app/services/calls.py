"""Storing calls: one transaction writes the call, its utterances and its processing job."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.errors import NotFound
from app.services import rollups
from app.services.jobs import enqueue
from models import Call, ClusterMember, Job, Mention, Participant, Utterance
from models.base import aware, utcnow
from pipelines.redact import redact_turns
from pipelines.types import Conversation


@dataclass(frozen=True)
class IngestResult:
    call: Call
    job: Job | None
    created: bool
    replaced: bool


def content_hash(conv: Conversation) -> str:
    """Hash of what was said, so the same conversation is recognised whatever its format."""
    turns = [[t.speaker, t.text, t.start_ms, t.end_ms] for t in conv.turns]
    meta = conv.meta
    head = [meta.title, meta.account, meta.deal_stage, meta.outcome, list(meta.tags),
            meta.started_at.isoformat() if meta.started_at else None]
    blob = json.dumps([head, turns], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def ingest(
    *, session: Session, workspace_id: int, conv: Conversation, raw: str
) -> IngestResult:
    """Stores a call idempotently by external_id; changed content replaces the old version."""
    conv = redact_turns(conv)
    digest = content_hash(conv)
    external_id = conv.meta.external_id or f"sha256:{digest[:40]}"
    existing = _find(session=session, workspace_id=workspace_id, external_id=external_id)
    if existing is not None:
        return _repost(session=session, call=existing, conv=conv, raw=raw, digest=digest)
    call = Call(workspace_id=workspace_id, external_id=external_id, content_hash=digest,
                raw_payload=raw)
    try:
        with session.begin_nested():
            _apply(session=session, call=call, conv=conv)
    except IntegrityError:
        # another request stored the same external_id at the same moment
        existing = _find(session=session, workspace_id=workspace_id, external_id=external_id)
        if existing is None:
            raise
        return _repost(session=session, call=existing, conv=conv, raw=raw, digest=digest)
    job = enqueue(session=session, workspace_id=workspace_id, kind="process_call",
                  call_id=call.id)
    return IngestResult(call=call, job=job, created=True, replaced=False)


def _find(*, session: Session, workspace_id: int, external_id: str) -> Call | None:
    return session.exec(
        select(Call).where(Call.workspace_id == workspace_id, Call.external_id == external_id)
    ).first()


def _repost(*, session: Session, call: Call, conv: Conversation, raw: str,
            digest: str) -> IngestResult:
    if call.content_hash == digest:
        return IngestResult(call=call, job=latest_job(session=session, call=call),
                            created=False, replaced=False)
    delete_call_content(session=session, call=call)
    call.content_hash, call.raw_payload = digest, raw
    _apply(session=session, call=call, conv=conv)
    job = enqueue(session=session, workspace_id=call.workspace_id, kind="process_call",
                  call_id=call.id)
    return IngestResult(call=call, job=job, created=False, replaced=True)


def _apply(*, session: Session, call: Call, conv: Conversation) -> None:
    meta = conv.meta
    call.title, call.started_at, call.account = meta.title, aware(meta.started_at), meta.account
    call.deal_stage, call.outcome, call.tags = meta.deal_stage, meta.outcome, list(meta.tags)
    call.source_format, call.status, call.updated_at = conv.source_format, "queued", utcnow()
    session.add(call)
    session.flush()
    ws = call.workspace_id
    for sp in conv.speakers:
        session.add(Participant(workspace_id=ws, call_id=call.id, name=sp.name, email=sp.email,
                                declared_role=sp.role))
    for idx, turn in enumerate(conv.turns):
        session.add(Utterance(workspace_id=ws, call_id=call.id, idx=idx, speaker=turn.speaker,
                              start_ms=turn.start_ms, end_ms=turn.end_ms, text=turn.text))
    session.flush()


def delete_call_content(*, session: Session, call: Call) -> None:
    """Removes utterances, participants and mentions (with memberships) of a call."""
    mention_ids = select(Mention.id).where(Mention.call_id == call.id)
    session.execute(delete(ClusterMember).where(ClusterMember.mention_id.in_(mention_ids)))
    session.execute(delete(Mention).where(Mention.call_id == call.id))
    session.execute(delete(Utterance).where(Utterance.call_id == call.id))
    session.execute(delete(Participant).where(Participant.call_id == call.id))
    rollups.clear_call(session=session, call=call)
    session.flush()


def latest_job(*, session: Session, call: Call) -> Job | None:
    return session.exec(
        select(Job).where(Job.call_id == call.id).order_by(Job.id.desc())  # type: ignore[union-attr]
    ).first()


def get_call(*, session: Session, workspace_id: int, call_id: int) -> Call:
    call = session.get(Call, call_id)
    if call is None or call.workspace_id != workspace_id:
        raise NotFound(f"call {call_id} not found", detail={"call_id": call_id})
    return call


def utterances(*, session: Session, call_id: int) -> list[Utterance]:
    return list(session.exec(select(Utterance).where(Utterance.call_id == call_id)
                             .order_by(Utterance.idx)))


def mentions(*, session: Session, call_id: int) -> list[Mention]:
    return list(session.exec(select(Mention).where(Mention.call_id == call_id)
                             .order_by(Mention.utterance_id, Mention.start_char)))


def participants(*, session: Session, call_id: int) -> list[Participant]:
    return list(session.exec(select(Participant).where(Participant.call_id == call_id)
                             .order_by(Participant.id)))


def list_calls(*, session: Session, workspace_id: int, limit: int, offset: int) -> list[Call]:
    return list(session.exec(
        select(Call).where(Call.workspace_id == workspace_id)
        .order_by(Call.started_at.desc(), Call.id.desc())  # type: ignore[union-attr]
        .offset(offset).limit(limit)))
