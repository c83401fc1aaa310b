"""Choosing a format: by content type first, then by the body's shape."""

from __future__ import annotations

from typing import Any

from pipelines.formats import exports, fireflies, vtt
from pipelines.formats.cues import TIMING
from pipelines.formats.decode import load_json
from pipelines.formats.errors import at_field
from pipelines.formats.fields import Field
from pipelines.types import ParseError

SNIFF_LINES = 20

_BY_MEDIA = {
    "text/vtt": "vtt",
    "application/x-subrip": "srt",
    "application/srt": "srt",
    "text/srt": "srt",
    "text/x-srt": "srt",
}
_JSON_MEDIA = frozenset({"application/json", "text/json"})
# Types clients send without thinking about it: the body's shape decides.
_GENERIC_MEDIA = frozenset(
    {"", "text/plain", "application/octet-stream", "application/x-www-form-urlencoded"}
)


def media_type(content_type: str | None) -> str:
    """`Text/VTT; charset=utf-8` -> `text/vtt`."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def choose(text: str, content_type: str | None) -> tuple[str, Any]:
    """(format, decoded JSON or None for the text formats)."""
    media = media_type(content_type)
    if media in _BY_MEDIA:
        return _BY_MEDIA[media], None
    if media in _JSON_MEDIA or media.endswith("+json"):
        data = load_json(text)
        return json_format(data), data
    if media in _GENERIC_MEDIA:
        return _by_shape(text)
    raise at_field("unknown_format", f"unsupported content type {media!r}", "content_type")


def json_format(data: Any) -> str:
    """The JSON format whose distinctive keys the document has."""
    name = _json_shape(data) if isinstance(data, dict) else None
    if name is None:
        raise at_field("unknown_format", "JSON of no known transcript shape", "body")
    return name


def text_format(text: str) -> str:
    """vtt when a WEBVTT header or a `.`-timed cue opens the body, srt for `,` timing, then a
    notetaker or meeting-tool export whose shape and marks are there, else plain text."""
    lines = text.splitlines()
    head = lines[:SNIFF_LINES]
    if vtt.header_line(head) is not None:
        return "vtt"
    for line in head:
        m = TIMING.match(line.strip())
        if m is not None:
            return "srt" if "," in m.group("start") else "vtt"
    return exports.detect(lines) or "text"


def _by_shape(text: str) -> tuple[str, Any]:
    opening = text.lstrip()[:1]
    if opening == "{":
        data = load_json(text)
        return json_format(data), data
    if opening == "[":  # a JSON array, or a text line such as "[00:01:02] Dana: hi"
        try:
            data = load_json(text)
        except ParseError:
            return text_format(text), None
        return json_format(data), data
    return text_format(text), None


def _json_shape(data: dict[str, Any]) -> str | None:
    if "callTranscripts" in data:
        return "gong"
    if "ext_conversation_turns" in data:
        return "clari"
    if fireflies.transcript_of(Field(data)) is not None:
        return "fireflies"
    if "speakers" in data and "transcript" in data:
        return "avoma"
    if "external_id" in data:
        return "native"
    utterances = data.get("utterances")
    if not isinstance(utterances, list):
        return None
    first = next((u for u in utterances if isinstance(u, dict)), {})
    if first.keys() & {"snippet", "snippet_time", "speaker_name", "speaker_type"}:
        return "chorus"
    if first.keys() & {"start_ms", "end_ms"} or "participants" in data:
        return "native"
    if first.keys() & {"start", "end"}:
        return "stt"
    return "native" if first else None
