"""Speaker roles: decided per call from the payload, what the workspace knows and the pattern.

Evidence that arrives later (a name becoming recurrent, a roster change, a correction) re-queues
exactly the calls whose roles it changes, so their mentions and the feed follow.
"""

from __future__ import annotations

from collections import defaultdict

from sqlmodel import Session, select

from app.services import rollups
from app.services.calls import utterances as call_utterances
from app.services.jobs import enqueue
from app.services.workspaces import roster
from models import Call, Job, Participant, RoleCorrection, Utterance, Workspace
from pipelines.roles import Evidence, RoleDecision, resolve_roles
from pipelines.roles_names import name_key
from pipelines.roles_recurrence import Recurrence, recurrence
from pipelines.types import CallMeta, Conversation, Speaker, Turn


def workspace_names(*, session: Session, workspace_id: int) -> dict[int, list[str]]:
    """Every stored call's speaker names, by call id."""
    names: dict[int, list[str]] = defaultdict(list)
    rows = session.exec(select(Participant.call_id, Participant.name)
                        .where(Participant.workspace_id == workspace_id))
    for call_id, name in rows:
        names[call_id].append(name)
    return names


def evidence_for(*, session: Session, call: Call, seen: Recurrence | None = None) -> Evidence:
    """What the workspace knows that bears on this call's roles."""
    workspace = session.get(Workspace, call.workspace_id)
    corrections = list(session.exec(select(RoleCorrection).where(
        RoleCorrection.workspace_id == call.workspace_id,
        (RoleCorrection.call_id == call.id) | (RoleCorrection.call_id.is_(None)))))  # type: ignore[union-attr]
    if seen is None:
        seen = recurrence(workspace_names(session=session, workspace_id=call.workspace_id).items())
    return Evidence(
        own_domains=tuple(workspace.own_domains if workspace else ()),
        roster=tuple(roster(session=session, workspace_id=call.workspace_id)),
        learned={c.name_key: c.role for c in corrections if c.call_id is None},
        corrected={c.speaker: c.role for c in corrections if c.call_id == call.id},
        recurrence=seen,
    )


def decide_roles(*, session: Session, call: Call, utts: list[Utterance],
                 participants: list[Participant],
                 seen: Recurrence | None = None) -> dict[str, RoleDecision]:
    speakers = {p.name: Speaker(name=p.name, email=p.email, role=p.declared_role)
                for p in participants}
    for u in utts:
        speakers.setdefault(u.speaker, Speaker(name=u.speaker))
    conv = Conversation(
        meta=CallMeta(external_id=call.external_id),
        speakers=tuple(speakers.values()),
        turns=tuple(Turn(u.speaker, u.text, u.start_ms, u.end_ms) for u in utts),
    )
    return resolve_roles(conv, evidence_for(session=session, call=call, seen=seen))


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
    call.role_confidence = min((d.confidence for d in decisions.values()), default=0.0)
    session.add(call)
    session.flush()


def participants_of(*, session: Session, call_id: int) -> list[Participant]:
    return list(session.exec(select(Participant).where(Participant.call_id == call_id)))


def requeue_if_changed(*, session: Session, call: Call, seen: Recurrence | None = None) -> bool:
    """Queues a processed call whose roles would now be decided differently; when only the
    source or confidence changed, those are updated in place (the mentions stay right)."""
    if call.status != "processed":
        return False  # still queued or running: it will be decided with today's evidence
    participants = participants_of(session=session, call_id=call.id)
    decisions = decide_roles(session=session, call=call, participants=participants,
                             utts=call_utterances(session=session, call_id=call.id), seen=seen)
    current = {p.name: p.role for p in participants}
    if all(current.get(name) == d.role for name, d in decisions.items()):
        _restamp(session=session, call=call, participants=participants, decisions=decisions)
        return False
    call.status = "queued"
    session.add(call)
    enqueue(session=session, workspace_id=call.workspace_id, kind="process_call",
            call_id=call.id)
    return True


def _restamp(*, session: Session, call: Call, participants: list[Participant],
             decisions: dict[str, RoleDecision]) -> None:
    for p in participants:
        d = decisions.get(p.name)
        if d is not None and (p.role_source, p.role_confidence) != (d.source, d.confidence):
            p.role_source, p.role_confidence = d.source, float(d.confidence)
            session.add(p)
    call.role_confidence = min((d.confidence for d in decisions.values()), default=0.0)
    session.add(call)
    rollups.touch(session=session, workspace_id=call.workspace_id)  # roles=confident changes


def reprocess_changed_roles(*, session: Session, job: Job) -> int:
    """After a roster, domain or correction change: re-queue every call whose roles differ."""
    names = workspace_names(session=session, workspace_id=job.workspace_id)
    seen = recurrence(names.items())
    calls = session.exec(select(Call).where(Call.workspace_id == job.workspace_id,
                                            Call.status == "processed"))
    return sum(requeue_if_changed(session=session, call=c, seen=seen) for c in list(calls))


def requeue_after_recurrence(*, session: Session, call: Call) -> int:
    """This call may have made a name recurrent (or stopped it being so): the other calls
    with that person are re-decided, and re-queued where their roles change."""
    names = workspace_names(session=session, workspace_id=call.workspace_id)
    mine = names.get(call.id, [])
    with_call = recurrence(names.items())
    without = recurrence((cid, n) for cid, n in names.items() if cid != call.id)
    flipped = {name_key(n) for n in mine if with_call.recurring(n) != without.recurring(n)}
    if not flipped:
        return 0
    others = [cid for cid, ns in names.items()
              if cid != call.id and any(name_key(n) in flipped for n in ns)]
    queued = 0
    for cid in others:
        other = session.get(Call, cid)
        if other is not None:
            queued += requeue_if_changed(session=session, call=other, seen=with_call)
    return queued
