"""Transcript parsing: any supported format in, one normalised Conversation out.

Every failure, whatever the input, is a ParseError whose code is one of errors.CODES.
"""

from __future__ import annotations

from collections.abc import Callable

from pipelines.formats import (
    avoma,
    chorus,
    clari,
    detect,
    exports,
    fireflies,
    gong,
    native,
    plausible,
    srt,
    stt,
    text,
    vtt,
)
from pipelines.formats.decode import decode_body, load_json
from pipelines.formats.draft import Draft, finish
from pipelines.formats.errors import at_field
from pipelines.formats.fields import Field
from pipelines.formats.limits import Limits
from pipelines.formats.meta import merge_meta
from pipelines.types import CallMeta, Conversation, ParseError

__all__ = ["FORMATS", "Limits", "detect_format", "parse"]

FORMATS: tuple[str, ...] = (
    "native", "vtt", "srt", "text", "gong", "chorus", "avoma", "fireflies", "clari", "stt",
    *exports.EXPORTS,
)  # fmt: skip

DEFAULT_LIMITS = Limits()

_TEXT_PARSERS: dict[str, Callable[[str], Draft]] = {
    "vtt": vtt.parse,
    "srt": srt.parse,
    "text": text.parse,
    **{name: e.parse for name, e in exports.EXPORTS.items()},
}
_JSON_PARSERS: dict[str, Callable[[Field], Draft]] = {
    "native": native.parse,
    "gong": gong.parse,
    "chorus": chorus.parse,
    "avoma": avoma.parse,
    "fireflies": fireflies.parse,
    "clari": clari.parse,
    "stt": stt.parse,
}


# Formats whose parser finds turns in free text, so whose result must be believable.
TEXT_FAMILY: tuple[str, ...] = ("text", *exports.EXPORTS)


def parse(
    body: bytes,
    *,
    content_type: str | None = None,
    fmt: str | None = None,
    meta: CallMeta | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Conversation:
    """Parses `body` in the forced `fmt`, or the one detected; `meta`'s set fields win.

    A text body whose parse is not believable (see plausible.py) is read with the other text
    formats; when none is believable a ParseError "unreadable" names what was tried.
    """
    decoded = decode_body(body, limits)
    name, data = _forced(decoded, fmt) if fmt is not None else detect.choose(decoded, content_type)
    if name not in TEXT_FAMILY:
        return _parse_as(name, decoded, data, meta, limits)
    candidates = [name] if fmt is not None else [name, *(f for f in TEXT_FAMILY if f != name)]
    return _first_believable(candidates, decoded, meta, limits)


def _parse_as(name: str, decoded: str, data: object, meta: CallMeta | None,
              limits: Limits) -> Conversation:
    if name in _TEXT_PARSERS:
        draft = _TEXT_PARSERS[name](decoded)
    else:
        draft = _JSON_PARSERS[name](Field(data))
    draft.meta = merge_meta(draft.meta, meta)
    return finish(draft, fmt=name, limits=limits)


def _first_believable(candidates: list[str], decoded: str, meta: CallMeta | None,
                      limits: Limits) -> Conversation:
    tried: dict[str, str] = {}
    implausible = False
    first_error: ParseError | None = None
    for name in candidates:
        try:
            conv = _parse_as(name, decoded, None, meta, limits)
        except ParseError as exc:
            if exc.code != "no_utterances" and name == candidates[0]:
                raise  # a limit or a truncated body: the detected format's own error stands
            first_error = first_error or exc
            tried[name] = "no turns found" if exc.code == "no_utterances" else exc.message
            continue
        problem = plausible.problem(conv, decoded)
        if problem is None:
            return conv
        tried[name], implausible = problem, True
    if not implausible and first_error is not None:
        raise first_error  # no format found a single turn
    raise _unreadable(tried)


def _unreadable(tried: dict[str, str]) -> ParseError:
    reasons = "; ".join(f"{name}: {why}" for name, why in tried.items())
    return ParseError(
        "unreadable",
        f"this text does not read as a conversation in any format tried ({reasons}). If it is "
        f"a transcript, force its format with ?format=NAME, one of {', '.join(FORMATS)}",
        {"field": "body", "tried": tried, "formats": list(FORMATS)},
    )


def detect_format(body: bytes, content_type: str | None) -> str:
    """The format `parse` would pick for this body and content type."""
    return detect.choose(decode_body(body, DEFAULT_LIMITS), content_type)[0]


def _forced(decoded: str, fmt: str) -> tuple[str, object]:
    name = fmt.strip().lower()
    if name not in FORMATS:
        raise at_field("unknown_format", f"unknown format {fmt!r}; use one of {FORMATS}", "fmt")
    return name, (None if name in _TEXT_PARSERS else load_json(decoded))
