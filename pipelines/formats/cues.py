"""Timed cue blocks, shared by WebVTT and SRT: a timing line, then the payload lines."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from pipelines.formats.errors import at_line
from pipelines.formats.timecode import CUE_CLOCK, clock_ms

TIMING = re.compile(rf"^(?P<start>{CUE_CLOCK})[ \t]*-->[ \t]*(?P<end>{CUE_CLOCK})(?:[ \t]+.*)?$")
_CLOCK_START = re.compile(r"^\d{1,6}:\d")


@dataclass(slots=True)
class Cue:
    line: int
    start_ms: int
    end_ms: int
    payload: list[str]


def iter_cues(
    lines: list[str], *, first_line: int = 1, skip: tuple[str, ...] = ()
) -> Iterator[Cue]:
    """Cues in order; blocks opening with a word in `skip` (NOTE, STYLE) are passed over.

    Lines outside cues (headers, cue ids, SRT indexes) are ignored. A cue that follows the
    previous one without a blank line still starts at its timing line.
    """
    cue: Cue | None = None
    skipping = False
    block_start = True
    last = _last_content(lines)
    for n, raw in enumerate(lines):
        line = raw.strip()
        number = first_line + n
        if not line:
            if cue is not None:
                yield cue
                cue = None
            skipping, block_start = False, True
            continue
        opens_block, block_start = block_start, False
        if skipping or (opens_block and cue is None and line.split(maxsplit=1)[0] in skip):
            skipping = True
            continue
        if "-->" in line:
            if cue is not None:
                if cue.payload and cue.payload[-1].isdigit():
                    cue.payload.pop()  # the next cue's SRT index, written without a blank line
                yield cue
            cue = _timing(line, number, at_end=n == last)
        elif cue is not None:
            cue.payload.append(line)
        elif n == last and _CLOCK_START.match(line):
            raise at_line("truncated", "the body ends inside a cue timing", number)
    if cue is not None:
        yield cue


def _timing(line: str, number: int, *, at_end: bool) -> Cue:
    m = TIMING.match(line)
    start = clock_ms(m.group("start")) if m else None
    end = clock_ms(m.group("end")) if m else None
    if start is None or end is None:
        if at_end:
            raise at_line("truncated", "the body ends inside a cue timing", number)
        raise at_line("invalid_field", f"bad cue timing {line[:80]!r}", number)
    return Cue(number, start, end, [])


def _last_content(lines: list[str]) -> int:
    for n in range(len(lines) - 1, -1, -1):
        if lines[n].strip():
            return n
    return -1
