"""WebVTT as Zoom (`Name: text` in the cue) and Teams (`<v Name>text</v>`) write it."""

from __future__ import annotations

import html
import re

from pipelines.formats.cues import iter_cues
from pipelines.formats.draft import UNKNOWN_SPEAKER, Draft, RawTurn
from pipelines.formats.speakers import split_prefix

HEADER_SEARCH_LINES = 20  # stray lines some exporters write before the header

# No "<" inside a tag: an unclosed "<" then fails fast instead of rescanning the rest.
_VOICE = re.compile(r"<v(?:\.[^\s<>]*)?[ \t]+([^<>]*)>")
_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<\d[\d:.]*>")


def header_line(lines: list[str]) -> int | None:
    """Index of the `WEBVTT` line among the first few lines, if there is one."""
    for n, line in enumerate(lines[:HEADER_SEARCH_LINES]):
        if line.lstrip("\ufeff \t").startswith("WEBVTT"):
            return n
    return None


def parse(text: str) -> Draft:
    """One turn per cue; consecutive cues by one speaker stay separate turns."""
    lines = text.splitlines()
    header = header_line(lines)
    start = 0 if header is None else header + 1
    turns = (
        RawTurn(*_speaker_and_text(cue.payload), cue.start_ms, cue.end_ms, {"line": cue.line})
        for cue in iter_cues(lines[start:], first_line=start + 1, skip=("NOTE", "STYLE", "REGION"))
    )
    return Draft(turns)


def _speaker_and_text(payload: list[str]) -> tuple[str, str]:
    joined = "\n".join(payload)
    voice = _VOICE.search(joined)
    if voice is not None:
        return html.unescape(voice.group(1)).strip(), _plain(joined)
    lines = [_plain(line) for line in payload]
    prefixed = split_prefix(lines[0]) if lines else None
    if prefixed is None:
        return UNKNOWN_SPEAKER, " ".join(lines)
    name, rest = prefixed
    return name, " ".join([rest, *lines[1:]])


def _plain(text: str) -> str:
    """Cue text without markup (<c>, <i>, <v>, timestamps) and with entities decoded."""
    return html.unescape(_TAG.sub("", text))
