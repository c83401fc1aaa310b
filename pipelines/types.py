"""Small frozen dataclasses that flow between the pipeline steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

ROLES = ("rep", "customer", "unknown")
KINDS = ("objection", "question", "pain")


@dataclass(frozen=True)
class Speaker:
    """A participant as the source names them; role is None when the source does not say."""

    name: str
    email: str | None = None
    role: str | None = None


@dataclass(frozen=True)
class Turn:
    """One utterance: who spoke, when (milliseconds from the call's start) and what."""

    speaker: str
    text: str
    start_ms: int | None = None
    end_ms: int | None = None


@dataclass(frozen=True)
class CallMeta:
    """Call metadata carried by a payload or given alongside it."""

    external_id: str | None = None
    title: str | None = None
    started_at: datetime | None = None
    account: str | None = None
    deal_stage: str | None = None
    outcome: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Conversation:
    """A parsed transcript, whatever format it came in."""

    meta: CallMeta
    speakers: tuple[Speaker, ...]
    turns: tuple[Turn, ...]
    source_format: str = "native"


class ParseError(ValueError):
    """Input that no parser can turn into a Conversation; `detail` names the line or field."""

    def __init__(self, code: str, message: str, detail: dict | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail or {}


@dataclass(frozen=True)
class ExtractedMention:
    """An exact quote from one utterance: text == utterance_text[start:end]."""

    kind: str  # one of KINDS
    category: str | None
    text: str
    start: int
    end: int
    confidence: float
    key_phrases: tuple[str, ...] = field(default=())
    # False for an objection below the feed threshold: shown on the call page, not in the feed.
    confident: bool = True
