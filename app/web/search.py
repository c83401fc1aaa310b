"""The search page: quotes found by meaning, with kind, category and outcome filters."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from app.deps import ModelsDep, SessionDep
from app.services.search import MAX_QUERY_CHARS, search_mentions
from app.web.deps import PageWorkspaceDep
from app.web.filters import OUTCOMES
from app.web.quotes import call_facts, quote_view
from app.web.routing import PageRoute
from app.web.templating import KIND_NAMES, templates
from pipelines.taxonomy import category_names

router = APIRouter(route_class=PageRoute, include_in_schema=False)

RESULTS = 30


def _choice(value: str | None, allowed) -> str | None:
    return value if value in allowed else None


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, session: SessionDep, workspace: PageWorkspaceDep,
                models: ModelsDep) -> Response:
    params = request.query_params
    q = " ".join(params.get("q", "").split())[:MAX_QUERY_CHARS]
    kind = _choice(params.get("kind"), KIND_NAMES)
    category = params.get("category", "").strip() or None
    outcome = _choice(params.get("outcome"), OUTCOMES)
    hits = search_mentions(session=session, workspace_id=workspace.id,
                           embedder=models.embedder, vectors=models.vectors, query=q,
                           kind=kind, category=category, outcome=outcome, limit=RESULTS) if q else []
    facts = call_facts(session=session, calls=[h.call for h in hits], safe=False)
    results = [quote_view(h.mention, h.call, facts[h.call.id], safe=False,
                          cluster_id=h.cluster_id, cluster_label=h.cluster_label,
                          score=h.similarity) for h in hits]
    return templates.TemplateResponse(request, "search.html", {
        "q": q, "kind": kind, "category": category, "outcome": outcome, "results": results,
        "categories": category_names(), "outcomes": OUTCOMES,
        "examples": ["too expensive", "we already use another tool", "how long does setup take",
                     "security review", "need approval from finance"],
    })
