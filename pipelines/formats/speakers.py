"""Telling a speaker label (`Dana Whitfield: ...`) apart from prose that merely has a colon."""

from __future__ import annotations

import re
from functools import lru_cache

from pipelines.roles_names import is_generic, without_company

MAX_NAME_WORDS = 5
MAX_NAME_CHARS = 64

_NAME = re.compile(r"^[^\W\d_][\w .'’&@()/|-]*$")
_PREFIX = re.compile(r"^(?P<name>[^:]{1,64}?)\s{0,16}:(?:\s+(?P<text>.*)|\s*)$", re.DOTALL)
# fmt: off
# Lower-case words that may sit inside a capitalised name ("Ana de la Cruz").
_PARTICLES = frozenset({
    "al", "bin", "da", "das", "de", "del", "della", "den", "der", "di", "do", "dos", "du", "el",
    "la", "le", "st", "ten", "ter", "van", "von", "y",
})
# Labels that open a line like a speaker would but are note-taking or filler.
_NOT_NAMES = frozenset({
    "agenda", "also", "and", "anyway", "attendees", "basically", "budget", "but", "caveat", "cons",
    "cost", "date", "decision", "decisions", "disclaimer", "duration", "edit", "example", "fyi",
    "fwd", "goal", "goals", "highlights", "honestly", "important", "issue", "keywords", "link",
    "location", "meeting", "nb", "no", "note", "notes", "now", "ok", "okay", "outline", "overview",
    "participants", "pricing", "problem", "pros", "ps", "p.s.", "re", "recording", "reference",
    "reminder", "result", "results", "so", "source", "status", "step", "subject", "summary",
    "then", "there", "this", "that", "time", "timeline", "tip", "title", "tl;dr", "tldr", "todo",
    "topic", "topics", "total", "transcript", "update", "warning", "well", "yes",
})
# fmt: on
_NOT_NAME_PHRASES = frozenset({"action items", "bottom line", "next steps", "to do"})


@lru_cache(maxsize=4096)  # a transcript repeats a handful of names thousands of times
def is_speaker_name(name: str) -> bool:
    """At most five words, starts with a letter, and several words are each capitalised."""
    if len(name) > MAX_NAME_CHARS or not _NAME.match(name):
        return False
    if is_generic(name) and len(name.split()) > 1:
        return True  # a recorder's own label: "Zoom user", "Call-in user 2"
    words = without_company(name).split()
    lowered = " ".join(words).lower()
    if len(words) > MAX_NAME_WORDS or lowered in _NOT_NAMES or lowered in _NOT_NAME_PHRASES:
        return False
    return len(words) == 1 or not any(w[0].islower() and w.lower() not in _PARTICLES for w in words)


def split_prefix(line: str) -> tuple[str, str] | None:
    """(`name`, `rest`) for a `Name: rest` line whose name passes is_speaker_name, else None."""
    m = _PREFIX.match(line)
    if m is None:
        return None
    name = m.group("name").strip()
    if not is_speaker_name(name):
        return None
    return name, m.group("text") or ""
