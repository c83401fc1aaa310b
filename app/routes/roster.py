from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.deps import RowId, SessionDep, WorkspaceDep
from app.schemas import JobRef
from app.services.calls import get_call
from app.services.calls import participants as call_participants
from app.services.roles import set_roster, set_speaker_role, swap_roles
from app.services.workspaces import roster
from pipelines.roles import UNSURE_BELOW

router = APIRouter(tags=["speaker roles"])


class Roster(BaseModel):
    members: list[str] = Field(default_factory=list, description="rep names or emails")
    own_domains: list[str] = Field(default_factory=list, description="e.g. relayhq.com")


class SpeakerRole(BaseModel):
    speaker: str
    role: Literal["rep", "customer"] | None


class ParticipantRole(BaseModel):
    name: str
    role: str
    source: str = Field(description="correction, explicit, roster, domain, recurrence or pattern")
    confidence: float
    unsure: bool


class CallRoles(BaseModel):
    call_id: int
    unsure: bool = Field(description=f"some participant's confidence is under {UNSURE_BELOW}")
    participants: list[ParticipantRole]


@router.get("/roster", response_model=Roster)
def read_roster(session: SessionDep, workspace: WorkspaceDep) -> Roster:
    """The workspace's own sales team (names or emails) and email domains."""
    return Roster(members=roster(session=session, workspace_id=workspace.id),
                  own_domains=list(workspace.own_domains or []))


@router.put("/roster", response_model=JobRef, status_code=202)
def write_roster(body: Roster, session: SessionDep, workspace: WorkspaceDep) -> JobRef:
    """Replace the roster and domains; calls whose speaker roles change are reprocessed."""
    job = set_roster(session=session, workspace=workspace, members=body.members,
                     own_domains=body.own_domains)
    return JobRef(job_id=job.id)


@router.put("/calls/{call_id}/roles", response_model=JobRef, status_code=202)
def write_speaker_role(call_id: RowId, body: SpeakerRole, session: SessionDep,
                       workspace: WorkspaceDep) -> JobRef:
    """Correct one speaker's role in a call (null: decide automatically again). The call is
    reprocessed, and for a named speaker the workspace learns it: every call with that person
    is re-decided. Generic names ("Zoom user") are corrected on this call only."""
    call = get_call(session=session, workspace_id=workspace.id, call_id=call_id)
    job = set_speaker_role(session=session, call=call, speaker=body.speaker, role=body.role)
    return JobRef(job_id=job.id)


@router.get("/calls/{call_id}/roles", response_model=CallRoles)
def read_call_roles(call_id: RowId, session: SessionDep, workspace: WorkspaceDep) -> CallRoles:
    """Who is on which side in a call, how that was decided, and how sure it is."""
    call = get_call(session=session, workspace_id=workspace.id, call_id=call_id)
    people = [ParticipantRole(name=p.name, role=p.role, source=p.role_source,
                              confidence=p.role_confidence,
                              unsure=p.role_confidence < UNSURE_BELOW)
              for p in call_participants(session=session, call_id=call.id)]
    return CallRoles(call_id=call.id, unsure=any(p.unsure for p in people), participants=people)


@router.post("/calls/{call_id}/roles/swap", response_model=JobRef, status_code=202)
def swap_call_roles(call_id: RowId, session: SessionDep, workspace: WorkspaceDep) -> JobRef:
    """Swap sides in a call (reps become customers and back), as corrections the workspace
    learns from; the call and every call with those people are reprocessed."""
    call = get_call(session=session, workspace_id=workspace.id, call_id=call_id)
    return JobRef(job_id=swap_roles(session=session, call=call).id)
