"""Plain-text transcripts: `Name: text`, `[00:01:02] Name: text`, `Name (00:01:02): text`,
and notetaker exports where a `Name  00:01` header line precedes its paragraphs."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from itertools import islice
from typing import NamedTuple

from pipelines.formats.draft import Draft, RawTurn
from pipelines.formats.speakers import is_speaker_name, split_prefix
from pipelines.formats.timecode import CLOCK, clock_ms

# The style is decided by the first speaker lines among the first lines, not the whole file.
STYLE_SAMPLE = 500
STYLE_SAMPLE_LINES = 10_000

# Whitespace runs are bounded so a line of spaces cannot make the lazy name backtrack.
_BRACKET = re.compile(rf"^\[(?P<ts>{CLOCK})\][ \t]{{0,16}}(?P<rest>.*)$")
_PAREN = re.compile(
    rf"^(?P<name>[^:()]{{1,64}}?)[ \t]{{0,16}}\((?P<ts>{CLOCK})\)[ \t]{{0,16}}:?(?P<text>.*)$"
)
_HEADER = re.compile(rf"^(?P<name>[^:]{{1,64}}?)(?:[ \t]{{2,16}}|\t)(?P<ts>{CLOCK})$")


class Opener(NamedTuple):
    """A line that starts a turn."""

    name: str
    text: str
    start_ms: int | None


def _bracket(line: str) -> Opener | None:
    m = _BRACKET.match(line)
    prefixed = split_prefix(m.group("rest")) if m else None
    return Opener(*prefixed, clock_ms(m.group("ts"))) if m and prefixed else None


def _paren(line: str) -> Opener | None:
    m = _PAREN.match(line)
    if m is None or not is_speaker_name(name := m.group("name").strip()):
        return None
    return Opener(name, m.group("text"), clock_ms(m.group("ts")))


def _header(line: str) -> Opener | None:
    m = _HEADER.match(line)
    if m is None or not is_speaker_name(name := m.group("name").strip()):
        return None
    return Opener(name, "", clock_ms(m.group("ts")))


def _colon(line: str) -> Opener | None:
    prefixed = split_prefix(line)
    return Opener(*prefixed, None) if prefixed else None


# In order of precedence: when counts tie, a timed style is the stronger evidence.
_STYLES: dict[str, Callable[[str], Opener | None]] = {
    "bracket": _bracket,
    "paren": _paren,
    "header": _header,
    "colon": _colon,
}


# Lines a recorder writes between or after the turns, never speech: each ends the turn before
# it, and what follows up to the next speaker line is not part of any turn (an ACTION ITEM
# section, a summary, a footer).
NOISE = re.compile(
    r"^(?:action items?\s*(?:[:\-–]|$).*|transcribed by https?://\S*otter\.ai\S*|meeting ended after .*"
    rf"|.{{1,80}} (?:started|stopped) transcription|{CLOCK}|view recording\b.*|-{{3,}}|={{3,}})$",
    re.IGNORECASE,
)


def parse(text: str) -> Draft:
    """Turns opened by the file's dominant speaker-line style; other lines continue a turn."""
    lines = text.splitlines()
    return Draft(turns(lines, _STYLES[_dominant(lines)]))


def turns(lines: list[str], opener_of: Callable[[str], Opener | None],
          needs: str = ":") -> Iterator[RawTurn]:
    """Streamed, so a body of a million one-line turns stops at the utterance limit.

    `needs` is a character every speaker line has (a cheap pre-check before the regexes).
    """
    turn: RawTurn | None = None
    parts: list[str] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        opener = opener_of(line) if needs in line else None
        if opener is None and NOISE.match(line):
            if turn is not None:
                turn.text = " ".join(parts)
                yield turn
            turn, parts = None, []
            continue
        if opener is not None:
            if turn is not None:
                turn.text = " ".join(parts)
                yield turn
            turn = RawTurn(opener.name, "", opener.start_ms, None, {"line": number})
            parts = [opener.text]
        elif line and turn is not None:
            parts.append(line)
        # lines before the first speaker (titles, dates) are not part of any turn
    if turn is not None:
        turn.text = " ".join(parts)
        yield turn


def _dominant(lines: list[str]) -> str:
    """The style of most of the first speaker lines."""
    found = (_style_of(line.strip()) for line in lines[:STYLE_SAMPLE_LINES] if ":" in line)
    counts = Counter(islice((s for s in found if s is not None), STYLE_SAMPLE))
    order = list(_STYLES)
    return max(order, key=lambda s: (counts[s], -order.index(s)))


def _style_of(line: str) -> str | None:
    return next((style for style, opener_of in _STYLES.items() if opener_of(line)), None)
