"""Raw bytes to text, and text to JSON, with every failure reported as a ParseError."""

from __future__ import annotations

import json
from typing import Any

from pipelines.formats.errors import at_field, at_line
from pipelines.formats.limits import Limits
from pipelines.types import ParseError


def decode_body(body: bytes, limits: Limits) -> str:
    """UTF-8 text without a byte-order mark; rejects oversized, undecodable and blank bodies."""
    if len(body) > limits.max_bytes:
        raise ParseError(
            "too_large",
            f"the body has {len(body)} bytes; the limit is {limits.max_bytes}",
            {"field": "body", "limit": limits.max_bytes},
        )
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        raise ParseError(
            "not_utf8",
            f"line {line}: the body is not valid UTF-8 (byte {exc.start})",
            {"line": line, "byte": exc.start},
        ) from None
    if not text.strip():
        raise at_field("empty_body", "the body is empty", "body")
    return text


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def load_json(text: str) -> Any:
    """Parsed JSON; a body cut off mid-document is `truncated`, any other fault `invalid_json`."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        cut = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")
        code = "truncated" if cut else "invalid_json"
        raise at_line(code, f"invalid JSON: {exc.msg}", exc.lineno) from None
    except (ValueError, RecursionError) as exc:
        # NaN/Infinity, integers over the digit limit, nesting deeper than the stack
        raise at_field("invalid_json", f"invalid JSON: {exc}", "body") from None
