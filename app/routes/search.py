from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from app.deps import ModelsDep, SessionDep, WorkspaceDep
from app.services.search import MAX_QUERY_CHARS, search_mentions

router = APIRouter(tags=["search"])


class SearchHitOut(BaseModel):
    mention_id: int
    text: str
    similarity: float
    kind: str
    category: str | None
    speaker: str
    start_ms: int | None
    call_id: int
    call_title: str | None
    account: str | None
    started_at: datetime | None
    outcome: str | None
    cluster_id: int | None
    cluster_label: str | None


class SearchOut(BaseModel):
    query: str
    items: list[SearchHitOut]


@router.get("/search", response_model=SearchOut)
def search(
    session: SessionDep, workspace: WorkspaceDep, models: ModelsDep,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS,
                            description="what the customer said, in your words")],
    kind: Literal["objection", "question", "pain"] | None = None,
    category: str | None = None, outcome: Literal["won", "lost", "open"] | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchOut:
    """Quotes found by meaning, not keywords: the query is embedded with the same model as
    the quotes and compared by cosine similarity; best first."""
    hits = search_mentions(session=session, workspace_id=workspace.id,
                           embedder=models.embedder, vectors=models.vectors, query=q,
                           kind=kind, category=category, outcome=outcome, limit=limit)
    return SearchOut(query=q, items=[SearchHitOut(
        mention_id=h.mention.id, text=h.mention.text, similarity=h.similarity,
        kind=h.mention.kind, category=h.mention.category, speaker=h.mention.speaker,
        start_ms=h.mention.start_ms, call_id=h.call.id, call_title=h.call.title,
        account=h.call.account, started_at=h.call.started_at, outcome=h.call.outcome,
        cluster_id=h.cluster_id, cluster_label=h.cluster_label) for h in hits])
