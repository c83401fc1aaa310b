from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.deps import RowId, SessionDep, WorkspaceDep
from app.schemas import JobRef
from app.services.calls import get_call
from app.services.roles import set_roster, set_speaker_role
from app.services.workspaces import roster

router = APIRouter(tags=["speaker roles"])


class Roster(BaseModel):
    members: list[str] = Field(default_factory=list, description="rep names or emails")
    own_domains: list[str] = Field(default_factory=list, description="e.g. relayhq.com")


class SpeakerRole(BaseModel):
    speaker: str
    role: Literal["rep", "customer"] | None


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
    """Set one speaker's role in a call (null: decide automatically); the call is reprocessed."""
    call = get_call(session=session, workspace_id=workspace.id, call_id=call_id)
    job = set_speaker_role(session=session, call=call, speaker=body.speaker, role=body.role)
    return JobRef(job_id=job.id)
