"""Speaker names as recorders write them: one key per person, and names that are nobody."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# "Dana Whitfield (Acme)", "Dana Whitfield | Acme", "Dana Whitfield - Acme", "Dana @ Acme"
_COMPANY_SUFFIX = re.compile(r"\s*(?:\([^()]*\)|\[[^\[\]]*\]|\s[|@–—-]\s.*|\s?\|.*)$")
_PHONE = re.compile(r"^[+(]?[\d\s().\-]{6,}$")
# fmt: off
# Labels a recorder gives to someone it could not name: a different person in every call.
_GENERIC = re.compile(
    r"^(?:zoom user|zoom|iphone|ipad|android|galaxy\b.*|samsung\b.*|pixel\b.*|unknown"
    r"|unknown speaker|guest|participant|speaker|attendee|caller|call.in user|dial.in user"
    r"|phone|mobile|host|co-host|user|interviewer|interviewee|me|them|you|other"
    r"|customer|prospect|client|rep|agent|sales|salesperson|seller|buyer"
    r"|speaker [a-z]|person \d+|[a-z]'s iphone|.*'s (?:iphone|ipad|phone|android|macbook.*)"
    r")(?:[\s_]*#?\d+)?$"
)
# fmt: on


def without_company(name: str) -> str:
    """"Dana Whitfield (Acme)" -> "Dana Whitfield"; the name itself when nothing is left."""
    return _COMPANY_SUFFIX.sub("", name.strip()) or name.strip()


def name_key(name: str) -> str:
    """Case-, accent- and spacing-free name without a company suffix: the person's identity."""
    base = without_company(name)
    folded = unicodedata.normalize("NFKD", base.casefold().replace("’", "'"))
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w' ]+", " ", plain).split())


@lru_cache(maxsize=4096)
def is_generic(name: str) -> bool:
    """True for "Zoom user", "iPhone", "Speaker 1", "Guest", phone numbers and the like."""
    stripped = name.strip()
    if not stripped or _PHONE.match(stripped):
        return True
    key = name_key(stripped)
    return not key or key.isdigit() or bool(_GENERIC.match(key))
