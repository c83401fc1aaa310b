"""Notetaker and meeting-tool text exports, each read from its documented shape.

- fathom: a title line, `VIEW RECORDING - 36 mins (No highlights)`, then `@M:SS - Name` headers
  (some versions write `M:SS - Name`)
  each followed by the paragraph spoken; ACTION ITEM lines and sections are not speech.
- zoom: Zoom's saved transcript text, `[Name] HH:MM:SS` headers (wall clock: made relative).
- meet: a Google Meet transcript saved as text: a title, `Attendees`, `Transcript`, then
  `Name: text` lines with a lone `00:05:00` line every few minutes, `Meeting ended after ...`.
- teams: a Microsoft Teams transcript saved as text: `Name   0:07` headers (often
  `Name (Guest)`), then the text; `Name started transcription` notices are not speech.
- otter: Otter.ai's text export: `Name  0:07` headers, then the paragraph,
  `Transcribed by https://otter.ai` at the end.
- tldv: tl;dv-style lines, `[MM:SS] Name: text` or `MM:SS Name: text`, under a head that
  names tl;dv (`Recorded with tl;dv`, a tldv.io link).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from pipelines.formats.draft import Draft, RawTurn
from pipelines.formats.speakers import is_speaker_name, split_prefix
from pipelines.formats.text import Opener, turns
from pipelines.formats.timecode import CLOCK, clock_ms

SNIFF_LINES = 200
_DAY_MS = 24 * 3_600_000

_FATHOM = re.compile(rf"^@?(?P<ts>{CLOCK})[ \t]{{1,4}}-[ \t]{{1,4}}(?P<name>.{{1,80}})$")
_ZOOM = re.compile(r"^\[(?P<name>[^\[\]]{1,80})\][ \t]{1,4}(?P<ts>\d{1,2}:\d{2}:\d{2})$")
_TEAMS = re.compile(rf"^(?P<name>[^:]{{1,80}}?)[ \t]{{2,16}}(?P<ts>{CLOCK})$")
_TLDV = re.compile(rf"^\[?(?P<ts>{CLOCK})\]?[ \t]{{1,4}}(?P<rest>.+)$")


def _named(name: str) -> str | None:
    name = name.strip()
    return name if is_speaker_name(name) else None


def _fathom(line: str) -> Opener | None:
    m = _FATHOM.match(line)
    name = _named(m.group("name")) if m else None
    return Opener(name, "", clock_ms(m.group("ts"))) if m and name else None


def _zoom(line: str) -> Opener | None:
    m = _ZOOM.match(line)
    name = _named(m.group("name")) if m else None
    return Opener(name, "", clock_ms(m.group("ts"))) if m and name else None


def _header(line: str) -> Opener | None:
    m = _TEAMS.match(line)
    name = _named(m.group("name")) if m else None
    return Opener(name, "", clock_ms(m.group("ts"))) if m and name else None


def _meet(line: str) -> Opener | None:
    prefixed = split_prefix(line)
    return Opener(*prefixed, None) if prefixed else None


def _tldv(line: str) -> Opener | None:
    m = _TLDV.match(line)
    prefixed = split_prefix(m.group("rest")) if m else None
    return Opener(*prefixed, clock_ms(m.group("ts"))) if m and prefixed else None


@dataclass(frozen=True)
class Export:
    """One export shape: how a turn opens, and the lines that give the tool away."""

    name: str
    opener: Callable[[str], Opener | None]
    needs: str  # a character every opener line has
    marks: re.Pattern[str]  # at least one such line is in every export of this tool
    min_openers: int = 2

    def parse(self, text: str) -> Draft:
        lines = text.splitlines()
        raw = turns(lines, self.opener, needs=self.needs)
        return Draft(_relative(raw) if self.name == "zoom" else raw)

    def matches(self, lines: list[str]) -> bool:
        head = [line.strip() for line in lines[:SNIFF_LINES]]
        tail = [line.strip() for line in lines[-5:]]
        openers = sum(1 for line in head if self.needs in line and self.opener(line))
        return openers >= self.min_openers and any(self.marks.match(x) for x in head + tail)


def _relative(raw: Iterable[RawTurn]) -> Iterator[RawTurn]:
    """Zoom writes the wall clock: offsets count from the first turn (across midnight too)."""
    first: int | None = None
    for turn in raw:
        if turn.start_ms is not None:
            first = turn.start_ms if first is None else first
            turn.start_ms = (turn.start_ms - first) % _DAY_MS
        yield turn


# In the order they are tried: the most distinctive marks first.
EXPORTS: dict[str, Export] = {e.name: e for e in (
    Export("fathom", _fathom, "-", re.compile(rf"^(?:view recording\b.*|@{CLOCK} - .+)$",
                                              re.IGNORECASE)),
    Export("zoom", _zoom, "]", re.compile(r"^\[[^\[\]]+\] \d{1,2}:\d{2}:\d{2}$")),
    Export("otter", _header, ":", re.compile(r"^transcribed by https?://\S*otter\.ai",
                                             re.IGNORECASE)),
    Export("teams", _header, ":", re.compile(
        r"^(?:.{1,80} (?:started|stopped) transcription|.{1,80}\(guest\)[ \t]{2,}\S+)$",
        re.IGNORECASE)),
    Export("meet", _meet, ":", re.compile(
        r"^(?:.{0,200}[-–] transcript|attendees|meeting ended after .*)$", re.IGNORECASE)),
    Export("tldv", _tldv, ":", re.compile(r"^.{0,200}\b(?:tl;dv|tldv\.io)\b.*$", re.IGNORECASE)),
)}  # fmt: skip


def detect(lines: list[str]) -> str | None:
    """The export these lines come from, if one's shape and marks are both there."""
    return next((name for name, e in EXPORTS.items() if e.matches(lines)), None)
