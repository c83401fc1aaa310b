from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from app.deps import ModelsDep, SessionDep, WorkspaceDep
from app.services.taxonomy import add_examples, workspace_taxonomy
from pipelines.taxonomy import Taxonomy

router = APIRouter(tags=["extraction"])


class ExtractIn(BaseModel):
    texts: list[str] = Field(min_length=1, max_length=200,
                             description="customer turns, each run as one utterance")


class ExamplesIn(BaseModel):
    category: str = Field(min_length=1, max_length=40)
    examples: list[str] = Field(min_length=1, max_length=50)
    description: str = ""


def _taxonomy_out(taxonomy: Taxonomy) -> dict:
    return {"categories": [{"name": c.name, "description": c.description,
                            "examples": len(c.prototypes)} for c in taxonomy]}


@router.get("/taxonomy")
def read_taxonomy(session: SessionDep, workspace: WorkspaceDep) -> dict:
    """The workspace's objection categories and how many example sentences define each."""
    return _taxonomy_out(workspace_taxonomy(session=session, workspace_id=workspace.id))


@router.post("/taxonomy/examples")
def post_examples(body: ExamplesIn, session: SessionDep, workspace: WorkspaceDep) -> dict:
    """Teach a category with your own example sentences, or add a new category.
    New calls use it at once; reprocess older ones by posting them again or a roster change."""
    taxonomy = add_examples(session=session, workspace_id=workspace.id, category=body.category,
                            examples=body.examples, description=body.description)
    return _taxonomy_out(taxonomy)


@router.post("/extract")
async def extract(body: ExtractIn, session: SessionDep, workspace: WorkspaceDep,
                  models: ModelsDep) -> dict:
    """Run extraction on posted text without storing anything (to try phrasings)."""
    taxonomy = workspace_taxonomy(session=session, workspace_id=workspace.id)
    extractor = await run_in_threadpool(models.extractor_for, taxonomy)
    found = await run_in_threadpool(extractor.extract, body.texts)
    return {"results": [
        {"text": text, "mentions": [
            {"kind": m.kind, "category": m.category, "confidence": round(m.confidence, 4),
             "text": m.text, "start": m.start, "end": m.end, "key_phrases": list(m.key_phrases)}
            for m in mentions]}
        for text, mentions in zip(body.texts, found, strict=True)]}
