"""Deciding who is the seller (rep) and who the buyer (customer) on a call.

The first source that knows decides, in this order: a correction made on this very call, the
role the payload declares, a correction the workspace learned for that person, the roster,
email domains, recurrence across the workspace's calls, and last the conversation pattern.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pipelines.roles_names import is_generic, name_key
from pipelines.roles_pattern import PatternModel, rep_probabilities
from pipelines.roles_recurrence import NO_RECURRENCE, Recurrence
from pipelines.types import Conversation, Speaker, Turn

MAX_PATTERN_CONFIDENCE = 0.85
# Opposite a seller we know, the others are buyers unless they out-sell that seller.
PAIR_CONFIDENCE = 0.85  # the other person on a two-person call
BESIDE_REP_CONFIDENCE = 0.75  # one of several others
UNSURE_BELOW = 0.7  # a call with a participant under this is "unsure"


@dataclass(frozen=True)
class RoleDecision:
    role: str  # "rep" | "customer" | "unknown"
    confidence: float
    # "correction" | "explicit" | "roster" | "domain" | "recurrence" | "pattern"
    source: str


@dataclass(frozen=True)
class Evidence:
    """What the workspace knows beyond the transcript itself."""

    own_domains: Sequence[str] = ()
    roster: Sequence[str] = ()  # names or emails of our people
    learned: Mapping[str, str] = field(default_factory=dict)  # name key -> role, from corrections
    corrected: Mapping[str, str] = field(default_factory=dict)  # speaker -> role, on this call
    recurrence: Recurrence = NO_RECURRENCE


def resolve_roles(conv: Conversation, evidence: Evidence = Evidence(),
                  model: PatternModel | None = None) -> dict[str, RoleDecision]:
    """A decision for every speaker, from the strongest source that knows."""
    speakers = _all_speakers(conv)
    known = {s.name: d for s in speakers if (d := _known(s, evidence)) is not None}
    known |= _by_pattern(conv.turns, [s.name for s in speakers], known, model)
    return {s.name: known[s.name] for s in speakers}


def _known(s: Speaker, ev: Evidence) -> RoleDecision | None:
    if s.name in ev.corrected:
        return RoleDecision(ev.corrected[s.name], 1.0, "correction")
    if s.role in ("rep", "customer"):
        return RoleDecision(s.role, 1.0, "explicit")
    generic = is_generic(s.name)
    if not generic and (learned := ev.learned.get(name_key(s.name))) is not None:
        return RoleDecision(learned, 0.98, "correction")
    return _directory(s, ev, generic) or _recurring(s, ev)


def _directory(s: Speaker, ev: Evidence, generic: bool) -> RoleDecision | None:
    """The roster and the workspace's email domains."""
    domains = tuple(d.lower().lstrip("@").strip() for d in ev.own_domains if d.strip())
    domain = s.email.rsplit("@", 1)[-1].lower().strip() if s.email and "@" in s.email else None
    if domain and any(domain == d or domain.endswith("." + d) for d in domains):
        return RoleDecision("rep", 0.95, "domain")
    roster = {_roster_key(r) for r in ev.roster if r.strip()}
    if (not generic and _roster_key(s.name) in roster) or (s.email and s.email.casefold() in roster):
        return RoleDecision("rep", 0.9, "roster")
    if domain and domains:
        # checked after the roster: a listed rep who joined from a personal address stays a rep
        return RoleDecision("customer", 0.9, "domain")
    return None


def _recurring(s: Speaker, ev: Evidence) -> RoleDecision | None:
    presence = ev.recurrence.of(s.name)
    if presence is None or not presence.recurring:
        return None
    return RoleDecision("rep", round(min(0.95, 0.8 + 0.02 * presence.calls), 3), "recurrence")


def _by_pattern(turns: Sequence[Turn], names: list[str], known: dict[str, RoleDecision],
                model: PatternModel | None) -> dict[str, RoleDecision]:
    """Conversation-pattern decisions for the speakers `known` lacks."""
    unknown = [n for n in names if n not in known]
    if not unknown:
        return {}
    p = rep_probabilities(turns, model)
    silent = {n: RoleDecision("unknown", 0.5, "pattern") for n in unknown if n not in p}
    talking = [n for n in unknown if n in p]
    reps = [n for n, d in known.items() if d.role == "rep"]
    if reps:
        return silent | _beside_known_reps(talking, reps, p, len(names))
    return silent | _on_pattern_alone(talking, p, any_customer_known=bool(known))


def _beside_known_reps(talking: list[str], reps: list[str], p: dict[str, float],
                       n_speakers: int) -> dict[str, RoleDecision]:
    """Opposite a seller we know, the others are buyers; on a call of three or more, one who
    out-sells every known seller is taken for a colleague, as long as a buyer remains.

    Business owners describe their own offer and prices, so the pattern alone must not turn
    the only buyer of a call into a second seller.
    """
    floor = PAIR_CONFIDENCE if n_speakers == 2 else BESIDE_REP_CONFIDENCE
    bar = max([0.5] + [p[r] for r in reps if r in p])
    colleagues = {n for n in talking if n_speakers > 2 and p[n] > bar}
    if colleagues and len(colleagues) == len(talking):
        colleagues.discard(min(talking, key=lambda n: p[n]))
    return {n: _pattern("rep", p[n]) if n in colleagues
            else RoleDecision("customer", round(min(0.95, max(floor, 1 - p[n])), 3), "pattern")
            for n in talking}


def _on_pattern_alone(talking: list[str], p: dict[str, float],
                      any_customer_known: bool) -> dict[str, RoleDecision]:
    """A sales call has a seller: the likeliest one is the rep; without a known buyer, the
    least likely is the customer; the rest go by the model's own 0.5."""
    if not talking:
        return {}
    ranked = sorted(talking, key=lambda n: -p[n])
    roles = {n: "rep" if p[n] >= 0.5 else "customer" for n in ranked}
    roles[ranked[0]] = "rep"
    if not any_customer_known and len(ranked) > 1:
        roles[ranked[-1]] = "customer"
    return {n: _pattern(roles[n], p[n]) for n in ranked}


def _pattern(role: str, p_rep: float) -> RoleDecision:
    agrees = p_rep if role == "rep" else 1 - p_rep
    return RoleDecision(role, round(min(MAX_PATTERN_CONFIDENCE, max(0.5, agrees)), 3), "pattern")


def _all_speakers(conv: Conversation) -> list[Speaker]:
    by_name = {s.name: s for s in conv.speakers}
    for t in conv.turns:
        by_name.setdefault(t.speaker, Speaker(t.speaker))
    return list(by_name.values())


def _roster_key(name_or_email: str) -> str:
    value = name_or_email.strip()
    return value.casefold() if "@" in value else name_key(value)
