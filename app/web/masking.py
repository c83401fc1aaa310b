"""Publish-safe quotes: the people and the company of a call, masked wherever they are named.

spaCy's NER is off in our pipeline, so the names come from what the call itself knows: its
participants and its account (with shorter forms of it, as people say them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

PERSON_MASK = "[name]"
COMPANY_MASK = "[company]"

# words of a company name that are too ordinary to stand for the company on their own
GENERIC_WORDS = frozenset([
    "a", "an", "and", "the", "of", "for", "at", "in", "on", "&", "co", "co.", "corp",
    "corp.", "corporation", "company", "companies", "inc", "inc.", "llc", "llp", "ltd",
    "ltd.", "plc", "gmbh", "group", "partners", "partner", "holdings", "international",
    "global", "services", "service", "solutions", "systems", "technologies", "technology",
    "labs", "lines", "health", "healthcare", "clinic", "clinics", "pediatric", "college",
    "university", "school", "state", "city", "town", "county", "foundation", "network",
    "management", "residential", "builders", "building", "home", "homes", "goods",
    "kitchen", "hospitality", "family", "dental", "media", "creative", "collective",
    "supply", "resorts", "inns", "energy", "auto", "motors", "staffing", "fitness",
    "cooperative", "coop", "co-op", "foodservice", "food", "distributors", "therapeutics",
    "precision", "parts", "analytics", "freight", "plastics", "logistics", "hotel",
    "hotels", "valley", "ridge", "harbor", "open", "little", "new", "first", "north",
    "south", "east", "west", "central", "united", "american", "national", "general",
    "capital",
])


def _name_tokens(name: str) -> list[str]:
    return [t for t in re.findall(r"[A-Za-z][A-Za-z'\-]+", name) if t[0].isupper()]


def company_variants(account: str, domains: Iterable[str] = ()) -> set[str]:
    """The account as written, its leading words, its distinctive words and its domain stems."""
    words = account.split()
    variants = {account.strip()} if account.strip() else set()
    for end in range(1, len(words)):
        if words[end - 1].lower() not in ("of", "and", "&", "the"):
            variants.add(" ".join(words[:end]))
    for token in _name_tokens(account):
        if len(token) >= 4 and token.lower() not in GENERIC_WORDS:
            variants.add(token)
    for domain in domains:
        stem = domain.lower().split(".")[0]
        if len(stem) >= 4:
            variants.add(stem)
    return {v for v in variants if v.lower() not in GENERIC_WORDS}


def person_variants(names: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for name in names:
        out.add(name.strip())
        out.update(t for t in _name_tokens(name) if len(t) >= 2)
    return {v for v in out if v}


@dataclass(frozen=True)
class Masker:
    pattern: re.Pattern[str] | None
    kinds: dict[str, str]

    @classmethod
    def build(cls, *, people: Iterable[str], account: str | None,
              domains: Iterable[str] = ()) -> Masker:
        kinds = {v: PERSON_MASK for v in person_variants(people)}
        kinds.update({v: COMPANY_MASK for v in company_variants(account or "", domains)})
        if not kinds:
            return cls(None, {})
        # longest first, so "Bluewater Freight Lines" wins over "Bluewater"
        alternatives = sorted(kinds, key=len, reverse=True)
        body = "|".join(re.escape(v) for v in alternatives)
        return cls(re.compile(rf"(?<![\w])(?:{body})(?![\w])"), kinds)

    def __call__(self, text: str | None) -> str:
        if not text or self.pattern is None:
            return text or ""
        return self.pattern.sub(lambda m: self.kinds[m.group(0)], text)
