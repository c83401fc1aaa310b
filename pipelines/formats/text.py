"""Plain-text transcripts: `Name: text`, `[00:01:02] Name: text`, `Name (00:01:02): text`,
and notetaker exports where a `Name  00:01` header line precedes its paragraphs."""

from __future__ import annotations

import re
from collections import Counter
from typing import NamedTuple

from pipelines.formats.draft import Draft, RawTurn
from pipelines.formats.speakers import is_speaker_name, split_prefix
from pipelines.formats.timecode import CLOCK, clock_ms

_STYLES = {
    "bracket": re.compile(rf"^\[(?P<ts>{CLOCK})\][ \t]*(?P<rest>.*)$"),
    "paren": re.compile(rf"^(?P<name>[^:()]{{1,64}}?)[ \t]*\((?P<ts>{CLOCK})\)[ \t]*:?(?P<text>.*)$"),
    "header": re.compile(rf"^(?P<name>[^:]{{1,64}}?)(?:[ \t]{{2,}}|\t)(?P<ts>{CLOCK})$"),
}
# When counts tie, a timed style is the stronger evidence.
_PRECEDENCE = ("bracket", "paren", "header", "colon")


class Opener(NamedTuple):
    """A line that starts a turn."""

    style: str
    name: str
    text: str
    start_ms: int | None


def parse(text: str) -> Draft:
    """Turns opened by the file's dominant speaker-line style; other lines continue a turn."""
    lines = [line.strip() for line in text.splitlines()]
    openers = [_opener(line) for line in lines]
    style = _dominant(openers)
    turns: list[RawTurn] = []
    parts: list[list[str]] = []  # each turn's lines, joined once at the end
    for number, (line, opener) in enumerate(zip(lines, openers, strict=True), start=1):
        if opener is not None and opener.style == style:
            turns.append(RawTurn(opener.name, "", opener.start_ms, None, {"line": number}))
            parts.append([opener.text])
        elif line and parts:
            parts[-1].append(line)
        # lines before the first speaker (titles, dates) are not part of any turn
    for turn, lines_of_turn in zip(turns, parts, strict=True):
        turn.text = " ".join(lines_of_turn)
    return Draft(turns)


def _dominant(openers: list[Opener | None]) -> str | None:
    counts = Counter(o.style for o in openers if o is not None)
    if not counts:
        return None
    return max(_PRECEDENCE, key=lambda s: (counts[s], -_PRECEDENCE.index(s)))


def _opener(line: str) -> Opener | None:
    if not line or ":" not in line:
        return None
    m = _STYLES["bracket"].match(line)
    if m is not None:
        prefixed = split_prefix(m.group("rest"))
        if prefixed is None:
            return None
        return Opener("bracket", prefixed[0], prefixed[1], clock_ms(m.group("ts")))
    for style in ("paren", "header"):
        m = _STYLES[style].match(line)
        if m is not None and is_speaker_name(m.group("name").strip()):
            text = m.group("text") if style == "paren" else ""
            return Opener(style, m.group("name").strip(), text, clock_ms(m.group("ts")))
    prefixed = split_prefix(line)
    return None if prefixed is None else Opener("colon", prefixed[0], prefixed[1], None)
