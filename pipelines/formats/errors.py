"""ParseError constructors shared by the format parsers, so codes and details stay uniform."""

from __future__ import annotations

from pipelines.types import ParseError

CODES = (
    "empty_body",
    "not_utf8",
    "unknown_format",
    "invalid_json",
    "invalid_field",
    "truncated",
    "too_large",
    "too_many_utterances",
    "utterance_too_long",
    "no_utterances",
    "unreadable",
)


def at_line(code: str, message: str, line: int) -> ParseError:
    """An error about one line of a text body (1-based)."""
    return ParseError(code, f"line {line}: {message}", {"line": line})


def at_field(code: str, message: str, field: str) -> ParseError:
    """An error about one field of a JSON body, named by its path (`utterances[3].text`)."""
    return ParseError(code, f"{field}: {message}", {"field": field})
