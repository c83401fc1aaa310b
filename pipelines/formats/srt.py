"""SubRip: numbered cues, `HH:MM:SS,mmm` timings, speakers by a `Name:` prefix if at all."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipelines.formats.cues import iter_cues
from pipelines.formats.draft import UNKNOWN_SPEAKER, Draft, RawTurn
from pipelines.formats.speakers import split_prefix

# The formatting SubRip players understand: <i>, <b>, <u>, <font ...> and {\an8}-style codes.
_TAG = re.compile(r"</?(?:i|b|u|font)(?:\s[^<>]*)?>|\{\\[^{}]*\}", re.IGNORECASE)


def parse(text: str) -> Draft:
    """One turn per cue; a cue without a `Name:` prefix is spoken by "Unknown"."""
    return Draft(_turns(text))


def _turns(text: str) -> Iterator[RawTurn]:
    for cue in iter_cues(text.splitlines()):
        lines = [_TAG.sub("", line) for line in cue.payload]
        prefixed = split_prefix(lines[0]) if lines else None
        speaker, first = prefixed if prefixed else (UNKNOWN_SPEAKER, lines[0] if lines else "")
        body = " ".join([first, *lines[1:]])
        yield RawTurn(speaker, body, cue.start_ms, cue.end_ms, {"line": cue.line})
