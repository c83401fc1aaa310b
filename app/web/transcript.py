"""An utterance's text cut into plain runs and highlighted mentions, by character offsets."""

from __future__ import annotations

from dataclasses import dataclass

from models import Mention


@dataclass(frozen=True)
class Segment:
    text: str
    mention: Mention | None = None


def segments(text: str, mentions: list[Mention]) -> list[Segment]:
    """Mentions in order of their start; one that overlaps an earlier one stays unmarked."""
    out: list[Segment] = []
    cursor = 0
    for m in sorted(mentions, key=lambda m: (m.start_char, -m.end_char)):
        start, end = m.start_char, min(m.end_char, len(text))
        if start < cursor or start >= end:
            continue
        if start > cursor:
            out.append(Segment(text[cursor:start]))
        out.append(Segment(text[start:end], m))
        cursor = end
    if cursor < len(text):
        out.append(Segment(text[cursor:]))
    return out
