"""Deciding who is the seller (rep) and who the buyer (customer) on a call."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from pipelines.types import Conversation, Speaker, Turn

MAX_HEURISTIC_CONFIDENCE = 0.85
PAIR_CONFIDENCE = 0.75  # the other person on a two-person call whose rep (or buyer) is known
_DECISIVE = 0.15  # a weaker heuristic score leaves the role unknown

# Evidence weights; each signal is scored in [-1, 1] for one speaker against the others.
_W_FIRST, _W_QUESTIONS, _W_PRODUCT = 0.3, 0.3, 0.4


@dataclass(frozen=True)
class RoleDecision:
    role: str  # "rep" | "customer" | "unknown"
    confidence: float
    source: str  # "explicit" | "domain" | "roster" | "heuristic"


def resolve_roles(
    conv: Conversation,
    *,
    own_domains: Sequence[str] = (),
    roster: Sequence[str] = (),
    product_terms: Sequence[str] = (),
) -> dict[str, RoleDecision]:
    """A decision for every speaker: declared role, email domain, roster, then heuristics.

    `own_domains` are the seller's email domains, `roster` the seller's people (names or
    emails) and `product_terms` the seller's product names.
    """
    speakers = _all_speakers(conv)
    domains = tuple(d.lower().lstrip("@").strip() for d in own_domains if d.strip())
    known_people = {_key(r) for r in roster if r.strip()}
    decisions = {
        s.name: d for s in speakers if (d := _evidence(s, domains, known_people)) is not None
    }
    decisions |= _guess(conv.turns, [s.name for s in speakers], decisions, product_terms)
    return {s.name: decisions[s.name] for s in speakers}


def _evidence(s: Speaker, domains: tuple[str, ...], roster: set[str]) -> RoleDecision | None:
    if s.role in ("rep", "customer"):
        return RoleDecision(s.role, 1.0, "explicit")
    domain = s.email.rsplit("@", 1)[-1].lower().strip() if s.email and "@" in s.email else None
    if domain and any(domain == d or domain.endswith("." + d) for d in domains):
        return RoleDecision("rep", 0.95, "domain")
    if _key(s.name) in roster or (s.email and _key(s.email) in roster):
        return RoleDecision("rep", 0.9, "roster")
    if domain and domains:
        # checked after the roster: a listed rep who joined from a personal address stays a rep
        return RoleDecision("customer", 0.9, "domain")
    return None


def _guess(
    turns: Sequence[Turn],
    names: list[str],
    known: dict[str, RoleDecision],
    product_terms: Sequence[str],
) -> dict[str, RoleDecision]:
    """Heuristic decisions for the speakers `known` lacks."""
    unknown = [n for n in names if n not in known]
    if not unknown:
        return {}
    if len(names) == 2 and len(unknown) == 1:
        other = "customer" if next(iter(known.values())).role == "rep" else "rep"
        return {unknown[0]: RoleDecision(other, PAIR_CONFIDENCE, "heuristic")}
    stats = _Stats(turns, product_terms)
    out = {}
    for name in unknown:
        score = stats.score(name)
        role = "rep" if score > _DECISIVE else "customer" if score < -_DECISIVE else "unknown"
        confidence = min(MAX_HEURISTIC_CONFIDENCE, 0.5 + 0.35 * abs(score))
        out[name] = RoleDecision(role, round(confidence, 3), "heuristic")
    return out


class _Stats:
    """Per-speaker turn, question and product-mention counts for one conversation."""

    def __init__(self, turns: Sequence[Turn], product_terms: Sequence[str]) -> None:
        terms = "|".join(re.escape(t.strip()) for t in product_terms if t.strip())
        product = re.compile(rf"(?<!\w)(?:{terms})(?!\w)", re.IGNORECASE) if terms else None
        self.first = turns[0].speaker if turns else None
        self.has_terms = product is not None
        self.turns = Counter(t.speaker for t in turns)
        self.questions = Counter(t.speaker for t in turns if "?" in t.text)
        self.mentions: Counter[str] = Counter()
        if product is not None:
            for t in turns:
                self.mentions[t.speaker] += len(product.findall(t.text))

    def score(self, name: str) -> float:
        """In [-1, 1]: positive looks like the rep, negative like a customer."""
        if not self.turns[name]:
            return 0.0
        signals = [
            (_W_FIRST, 1.0 if name == self.first else -1.0),
            (_W_QUESTIONS, self._against_others(self.questions, name)),
        ]
        if self.has_terms:
            signals.append((_W_PRODUCT, self._against_others(self.mentions, name)))
        return sum(w * s for w, s in signals) / sum(w for w, _ in signals)

    def _against_others(self, counts: Counter[str], name: str) -> float:
        """+1 when this speaker's per-turn rate is clearly above everyone else's, -1 below."""
        mine = counts[name] / self.turns[name]
        other_turns = self.turns.total() - self.turns[name]
        others = (counts.total() - counts[name]) / other_turns if other_turns else 0.0
        return 0.0 if mine == others else (mine - others) / max(mine, others)


def _all_speakers(conv: Conversation) -> list[Speaker]:
    by_name = {s.name: s for s in conv.speakers}
    for t in conv.turns:
        by_name.setdefault(t.speaker, Speaker(t.speaker))
    return list(by_name.values())


def _key(name_or_email: str) -> str:
    return " ".join(name_or_email.split()).casefold()
