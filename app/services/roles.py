"""Editing who is on our side: the roster, our email domains, and one speaker's role."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import Session, select

from app.errors import NotFound
from app.services.jobs import enqueue
from models import Call, Job, Participant, RosterEntry, Workspace


def _clean(values: list[str]) -> list[str]:
    return sorted({v.strip().lower() for v in values if v and v.strip()})


def set_roster(*, session: Session, workspace: Workspace, members: list[str],
               own_domains: list[str]) -> Job:
    """Replaces the roster and domains, then queues a job that reprocesses affected calls."""
    session.execute(delete(RosterEntry).where(RosterEntry.workspace_id == workspace.id))
    for value in _clean(members):
        session.add(RosterEntry(workspace_id=workspace.id, value=value))
    workspace.own_domains = [d.lstrip("@") for d in _clean(own_domains)]
    session.add(workspace)
    job = enqueue(session=session, workspace_id=workspace.id, kind="roles")
    session.commit()
    return job


def set_speaker_role(*, session: Session, call: Call, speaker: str, role: str | None) -> Job:
    """A person's explicit role for one call (None goes back to automatic); reprocesses it."""
    participant = session.exec(select(Participant).where(
        Participant.call_id == call.id, Participant.name == speaker)).first()
    if participant is None:
        raise NotFound(f"no speaker {speaker!r} in call {call.id}", detail={"field": "speaker"})
    participant.declared_role = role
    call.status = "queued"
    session.add(participant)
    session.add(call)
    job = enqueue(session=session, workspace_id=call.workspace_id, kind="process_call",
                  call_id=call.id)
    session.commit()
    return job
