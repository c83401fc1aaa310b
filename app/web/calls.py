"""The call page: the transcript with speakers, roles and times, its mentions highlighted."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from app.deps import RowId, SessionDep
from app.services import calls as calls_service
from app.services.roles import set_speaker_role, swap_roles
from app.services.search import clusters_of
from app.web.deps import CsrfDep, PageWorkspaceDep
from app.web.routing import PageRoute
from app.web.templating import templates
from app.web.transcript import Segment, segments
from models import Mention, Utterance
from pipelines.roles import UNSURE_BELOW

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@dataclass(frozen=True)
class Line:
    utterance: Utterance
    segments: list[Segment]

    @property
    def seconds(self) -> int | None:
        start = self.utterance.start_ms
        return None if start is None else start // 1000


@router.get("/calls/{call_id}", response_class=HTMLResponse)
def call_page(call_id: RowId, request: Request, session: SessionDep,
              workspace: PageWorkspaceDep) -> Response:
    call = calls_service.get_call(session=session, workspace_id=workspace.id, call_id=call_id)
    mentions = calls_service.mentions(session=session, call_id=call.id)
    by_utterance: dict[int, list[Mention]] = defaultdict(list)
    for m in mentions:
        by_utterance[m.utterance_id].append(m)
    lines = [Line(u, segments(u.text, by_utterance[u.id]))
             for u in calls_service.utterances(session=session, call_id=call.id)]
    counts: dict[str, int] = defaultdict(int)
    for m in mentions:
        counts[m.kind] += 1
    return templates.TemplateResponse(request, "call.html", {
        "call": call, "lines": lines, "mentions": mentions, "counts": counts,
        "participants": calls_service.participants(session=session, call_id=call.id),
        "clusters": clusters_of(session=session, mention_ids=[m.id for m in mentions]),
        "unsure_below": UNSURE_BELOW, "roles_saved": request.query_params.get("roles") == "1",
    })


@router.post("/calls/{call_id}/roles")
def correct_role(call_id: RowId, session: SessionDep, workspace: PageWorkspaceDep,
                 _csrf: CsrfDep, speaker: Annotated[str, Form()],
                 role: Annotated[Literal["rep", "customer"], Form()]) -> Response:
    """The same correction as PUT /v1/calls/{id}/roles: the workspace learns it."""
    call = calls_service.get_call(session=session, workspace_id=workspace.id, call_id=call_id)
    set_speaker_role(session=session, call=call, speaker=speaker, role=role)
    return RedirectResponse(f"/calls/{call.id}?roles=1", status_code=303)


@router.post("/calls/{call_id}/roles/swap")
def swap_call_roles(call_id: RowId, session: SessionDep, workspace: PageWorkspaceDep,
                    _csrf: CsrfDep) -> Response:
    """One click: reps become customers and customers reps, learned as corrections."""
    call = calls_service.get_call(session=session, workspace_id=workspace.id, call_id=call_id)
    swap_roles(session=session, call=call)
    return RedirectResponse(f"/calls/{call.id}?roles=1", status_code=303)
