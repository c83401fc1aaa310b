"""Request and response shapes of the public API (they become the OpenAPI docs)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class NativeParticipant(BaseModel):
    name: str
    email: str | None = None
    role: Literal["rep", "customer"] | None = None


class NativeUtterance(BaseModel):
    speaker: str
    start_ms: int | None = None
    end_ms: int | None = None
    text: str


class NativeCall(BaseModel):
    """The native JSON transcript (other formats are accepted too: see the endpoint)."""

    external_id: str
    title: str | None = None
    started_at: datetime | None = None
    account: str | None = None
    deal_stage: str | None = None
    outcome: Literal["won", "lost", "open"] | None = None
    tags: list[str] = Field(default_factory=list)
    participants: list[NativeParticipant] = Field(default_factory=list)
    utterances: list[NativeUtterance]


class Accepted(BaseModel):
    call_id: int
    job_id: int | None
    external_id: str
    status: Literal["queued", "unchanged", "replaced", "stale"]


class JobOut(Out):
    id: int
    kind: str
    status: Literal["queued", "running", "done", "failed"]
    call_id: int | None
    attempts: int
    progress: float
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobRef(BaseModel):
    job_id: int


class ParticipantOut(Out):
    name: str
    email: str | None
    role: str
    role_source: str
    role_confidence: float


class UtteranceOut(Out):
    id: int
    idx: int
    speaker: str
    role: str
    start_ms: int | None
    end_ms: int | None
    text: str


class MentionOut(Out):
    id: int
    call_id: int
    utterance_id: int
    kind: str
    category: str | None
    confidence: float
    text: str
    start_char: int
    end_char: int
    start_ms: int | None
    speaker: str
    context: str | None
    key_phrases: list[str]


class CallOut(Out):
    id: int
    external_id: str
    title: str | None
    started_at: datetime | None
    account: str | None
    deal_stage: str | None
    outcome: str | None
    tags: list[str]
    source_format: str
    status: str
    participants: list[ParticipantOut]
    utterances: list[UtteranceOut]
    mentions: list[MentionOut]


class Quote(BaseModel):
    mention_id: int
    text: str
    call_id: int
    speaker: str
    start_ms: int | None
    account: str | None
    category: str | None


class ScoreOut(BaseModel):
    mentions: int
    calls: int
    accounts: int
    recent: int
    previous: int
    trend: float
    recency: float
    lost_calls: int
    won_calls: int
    lost_share: float
    deal_lift: float


class FeedItemOut(BaseModel):
    id: int
    label: str
    category: str | None
    keywords: list[str]
    mentions: int = Field(description="every mention in the theme")
    confident_mentions: int = Field(description="the mentions the score counts")
    calls: int
    accounts: int
    score: float
    trend: float
    emerging: bool
    why: str = Field(description="why it ranks where it does, from its score components")
    components: ScoreOut
    quotes: list[Quote]


class OtherOut(BaseModel):
    """A category's mentions that no theme holds: counted, browsable, searchable."""

    mentions: int
    calls: int
    quotes: list[Quote]
    href: str = Field(description="every one of them, page by page (add q= to search)")


class CategoryOut(BaseModel):
    category: str | None
    mentions: int
    confident_mentions: int
    calls: int
    score: float
    why: str
    themes: list[FeedItemOut]
    themes_total: int
    other: OtherOut


class FeedOut(BaseModel):
    categories: list[CategoryOut]
    items: list[FeedItemOut] = Field(description="themes of every category, best first")
    next: str | None
    total: int
    other: int = Field(description="mentions in the categories' other groups")


class OtherMentionOut(Quote):
    confidence: float
    context: str | None
    started_at: datetime | None
    call_title: str | None


class OtherPage(BaseModel):
    items: list[OtherMentionOut]
    total: int
    next: str | None


class ClusterPatch(BaseModel):
    # surrounding blanks are dropped first, so a blank label is refused
    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=300)]
