from fastapi import APIRouter

from app.deps import RowId, SessionDep, WorkspaceDep
from app.schemas import JobOut
from app.services.jobs import get_job

router = APIRouter(tags=["jobs"])


@router.get("/jobs/{job_id}", response_model=JobOut)
def read_job(job_id: RowId, session: SessionDep, workspace: WorkspaceDep) -> JobOut:
    """A background job's status: queued, running, done or failed (with its error)."""
    job = get_job(session=session, workspace_id=workspace.id, job_id=job_id)
    return JobOut.model_validate(job, from_attributes=True)
