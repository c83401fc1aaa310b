"""Quotes as the pages show them: the exact words, who said them, where, and how to cite them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from app.services import calls as calls_service
from app.services.export import mmss
from app.services.feed import Row, when
from app.web.masking import Masker
from app.web.templating import day
from models import Call, Mention


@dataclass(frozen=True)
class QuoteView:
    mention_id: int
    text: str
    kind: str
    category: str | None
    speaker: str
    role: str
    account: str
    call_id: int
    call_title: str
    call_date: datetime | None
    start_ms: int | None
    utterance_id: int
    context: str
    cluster_id: int | None = None
    cluster_label: str | None = None
    score: float | None = None

    @property
    def time(self) -> str:
        return mmss(self.start_ms)

    @property
    def href(self) -> str:
        """The call at the moment the quote was said."""
        return f"/calls/{self.call_id}#u-{self.utterance_id}"

    @property
    def source(self) -> str:
        parts = [self.speaker, self.account, self.call_title, day(self.call_date), self.time]
        return ", ".join(p for p in parts if p)

    @property
    def citation(self) -> str:
        """What the copy button puts on the clipboard."""
        return f"“{self.text}” — {self.source}"


@dataclass(frozen=True)
class CallFacts:
    """Per call: each speaker's role, and the masker of its people and company."""

    roles: dict[str, str]
    mask: Callable[[str | None], str]


def _as_is(text: str | None) -> str:
    return text or ""


def call_facts(*, session: Session, calls: list[Call], safe: bool) -> dict[int, CallFacts]:
    out: dict[int, CallFacts] = {}
    for call in {c.id: c for c in calls}.values():
        people = calls_service.participants(session=session, call_id=call.id)
        roles = {p.name: p.role for p in people}
        mask: Callable[[str | None], str] = _as_is
        if safe:
            domains = [p.email.split("@")[-1] for p in people
                       if p.email and "@" in p.email and p.role != "rep"]
            mask = Masker.build(people=roles, account=call.account, domains=domains)
        out[call.id] = CallFacts(roles=roles, mask=mask)
    return out


def quote_view(mention: Mention, call: Call, facts: CallFacts, *, safe: bool,
               cluster_id: int | None = None, cluster_label: str | None = None,
               score: float | None = None) -> QuoteView:
    role = facts.roles.get(mention.speaker, "unknown")
    mask = facts.mask
    speaker = (role.capitalize() if role in ("customer", "rep") else "Speaker") if safe \
        else mention.speaker
    return QuoteView(
        mention_id=mention.id, text=mask(mention.text), kind=mention.kind,
        category=mention.category, speaker=speaker, role=role,
        account=mask(call.account), call_id=call.id,
        call_title=mask(call.title) or f"Call {call.id}", call_date=when(call),
        start_ms=mention.start_ms, utterance_id=mention.utterance_id,
        context=mask(mention.context), cluster_id=cluster_id, cluster_label=cluster_label,
        score=score)


def quote_views(*, session: Session, rows: list[Row], safe: bool = False) -> list[QuoteView]:
    facts = call_facts(session=session, calls=[r.call for r in rows], safe=safe)
    return [quote_view(r.mention, r.call, facts[r.call.id], safe=safe, cluster_id=r.cluster_id)
            for r in rows]
