"""Editing who is on our side: the roster, our email domains, and corrections of roles."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import Session, select

from app.errors import NotFound
from app.services.calls import participants as call_participants
from app.services.jobs import enqueue
from models import Call, Job, RoleCorrection, RosterEntry, Workspace
from pipelines.roles_names import is_generic, name_key


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
    """A user's role for one speaker (None: back to automatic). It binds on this call and, for a
    named person, teaches the workspace: every call with that person is re-decided."""
    return correct_roles(session=session, call=call, roles={speaker: role})


def swap_roles(*, session: Session, call: Call) -> Job:
    """One click on the call page: every rep becomes a customer and every customer a rep."""
    flipped = {"rep": "customer", "customer": "rep"}
    roles = {p.name: flipped[p.role] for p in call_participants(session=session, call_id=call.id)
             if p.role in flipped}
    return correct_roles(session=session, call=call, roles=roles)


def correct_roles(*, session: Session, call: Call, roles: dict[str, str | None]) -> Job:
    """Stores the corrections, reprocesses this call and re-checks every other call."""
    names = {p.name for p in call_participants(session=session, call_id=call.id)}
    for speaker, role in roles.items():
        if speaker not in names:
            raise NotFound(f"no speaker {speaker!r} in call {call.id}",
                           detail={"field": "speaker"})
        _remember(session=session, call=call, speaker=speaker, role=role)
    call.status = "queued"
    session.add(call)
    job = enqueue(session=session, workspace_id=call.workspace_id, kind="process_call",
                  call_id=call.id)
    enqueue(session=session, workspace_id=call.workspace_id, kind="roles")
    session.commit()
    return job


def _remember(*, session: Session, call: Call, speaker: str, role: str | None) -> None:
    key = name_key(speaker)
    scopes: list[int | None] = [call.id] if is_generic(speaker) else [call.id, None]
    for call_id in scopes:
        existing = session.exec(select(RoleCorrection).where(
            RoleCorrection.workspace_id == call.workspace_id,
            RoleCorrection.call_id == call_id if call_id is not None
            else RoleCorrection.call_id.is_(None),  # type: ignore[union-attr]
            RoleCorrection.name_key == key)).first()
        if role is None:
            if existing is not None:
                session.delete(existing)
            continue
        row = existing or RoleCorrection(workspace_id=call.workspace_id, call_id=call_id,
                                         name_key=key, speaker=speaker, role=role)
        row.role, row.speaker = role, speaker
        session.add(row)
    session.flush()
