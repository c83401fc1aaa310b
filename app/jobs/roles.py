"""Speaker roles: decided per call from the payload, the workspace's domains and its roster."""

from __future__ import annotations

from sqlmodel import Session, select

from app.services.calls import utterances as call_utterances
from app.services.jobs import enqueue
from app.services.workspaces import roster
from models import Call, Job, Participant, Utterance, Workspace
from pipelines.roles import RoleDecision, resolve_roles
from pipelines.types import CallMeta, Conversation, Speaker, Turn


def decide_roles(*, session: Session, call: Call, utts: list[Utterance],
                 participants: list[Participant]) -> dict[str, RoleDecision]:
    workspace = session.get(Workspace, call.workspace_id)
    speakers = {p.name: Speaker(name=p.name, email=p.email, role=p.declared_role)
                for p in participants}
    for u in utts:
        speakers.setdefault(u.speaker, Speaker(name=u.speaker))
    conv = Conversation(
        meta=CallMeta(external_id=call.external_id),
        speakers=tuple(speakers.values()),
        turns=tuple(Turn(u.speaker, u.text, u.start_ms, u.end_ms) for u in utts),
    )
    return resolve_roles(conv, own_domains=tuple(workspace.own_domains if workspace else ()),
                         roster=tuple(roster(session=session, workspace_id=call.workspace_id)))


def apply_roles(*, session: Session, call: Call, utts: list[Utterance],
                participants: list[Participant], decisions: dict[str, RoleDecision]) -> None:
    """Writes each speaker's decided role to its participant row and its utterances."""
    by_name = {p.name: p for p in participants}
    for name, decision in decisions.items():
        p = by_name.get(name) or Participant(workspace_id=call.workspace_id, call_id=call.id,
                                             name=name)
        p.role, p.role_source = decision.role, decision.source
        p.role_confidence = float(decision.confidence)
        session.add(p)
    for u in utts:
        u.role = decisions[u.speaker].role if u.speaker in decisions else "unknown"
        session.add(u)
    session.flush()


def participants_of(*, session: Session, call_id: int) -> list[Participant]:
    return list(session.exec(select(Participant).where(Participant.call_id == call_id)))


def reprocess_changed_roles(*, session: Session, job: Job) -> int:
    """After a roster or domain change: re-queue every call whose roles would now differ."""
    calls = session.exec(select(Call).where(Call.workspace_id == job.workspace_id,
                                            Call.status == "processed"))
    queued = 0
    for call in calls:
        participants = participants_of(session=session, call_id=call.id)
        utts = call_utterances(session=session, call_id=call.id)
        decisions = decide_roles(session=session, call=call, utts=utts,
                                 participants=participants)
        current = {p.name: p.role for p in participants}
        if any(current.get(name) != d.role for name, d in decisions.items()):
            call.status = "queued"
            session.add(call)
            enqueue(session=session, workspace_id=call.workspace_id, kind="process_call",
                    call_id=call.id)
            queued += 1
    return queued
