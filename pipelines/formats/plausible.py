"""Is a text body's parse believable as a conversation? Garbage is refused, never stored.

A text parser finds *something* in almost any text: a notes document read as one speaker, an
"ACTION ITEM" heading read as a person, three turns found in ten pages. Those parses are
refused, with the reason, so a user can force the right format instead of getting a wrong call.
"""

from __future__ import annotations

import re

from pipelines.types import Conversation

# Words a notes document uses as headings; a transcript never has a speaker called that.
HEADINGS = frozenset({
    "action item", "action items", "actions", "agenda", "attendees", "chapters", "decisions",
    "description", "duration", "follow ups", "follow-ups", "highlights", "key points",
    "key takeaways", "keywords", "meeting notes", "next steps", "notes", "outline", "overview",
    "participants", "questions", "recording", "speakers", "summary", "summary keywords",
    "takeaways", "tasks", "title", "topics", "transcript",
})  # fmt: skip
# One speaker is believable for a short note, not for a long multi-paragraph body.
ONE_SPEAKER_MAX_CHARS = 1500
ONE_SPEAKER_MAX_PARAGRAPHS = 3
# Most of a long body's text should land in some turn.
MIN_COVERED_SHARE = 0.35
COVERAGE_MIN_CHARS = 2000
# Turns of more than this many characters on average, in a long body, are paragraphs of a
# document glued together rather than a conversation's turns.
MAX_MEAN_TURN_CHARS = 3000
MEAN_TURN_MIN_CHARS = 4000

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


def problem(conv: Conversation, body: str) -> str | None:
    """Why this parse of `body` is not a believable transcript, or None when it is."""
    talking = {t.speaker for t in conv.turns}
    headings = sorted(s for s in talking if _heading(s))
    if headings:
        return f"{headings[0]!r} is a heading, not a speaker"
    chars = len("".join(body.split()))
    spoken = sum(len("".join(t.text.split())) for t in conv.turns)
    paragraphs = len([p for p in _PARAGRAPH_BREAK.split(body) if p.strip()])
    if len(talking) == 1 and (chars > ONE_SPEAKER_MAX_CHARS
                              or paragraphs > ONE_SPEAKER_MAX_PARAGRAPHS):
        return (f"one speaker ({next(iter(talking))!r}) for {paragraphs} paragraphs and "
                f"{chars} characters")
    if chars >= COVERAGE_MIN_CHARS and spoken < MIN_COVERED_SHARE * chars:
        return f"only {spoken / chars:.0%} of the text is in a turn"
    if chars >= MEAN_TURN_MIN_CHARS and spoken / len(conv.turns) > MAX_MEAN_TURN_CHARS:
        return f"{len(conv.turns)} turns for {chars} characters"
    return None


def _heading(name: str) -> bool:
    return " ".join(name.casefold().strip(" :.-#*").split()) in HEADINGS
