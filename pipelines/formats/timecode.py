"""Clock strings and numeric offsets turned into integer milliseconds."""

from __future__ import annotations

import math
import re

# Hours are bounded so a hostile timestamp cannot become a 4,000-digit integer.
CLOCK = r"(?:\d{1,6}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
CUE_CLOCK = r"(?:\d{1,6}:)?\d{1,2}:\d{2}[.,]\d{1,3}"  # cue timings always carry milliseconds
MAX_MS = 10**12  # about 31 years: longer offsets are corrupt input, not calls

_PARTS = re.compile(r"^(?:(\d{1,6}):)?(\d{1,2}):(\d{2})(?:[.,](\d{1,3}))?$")


def clock_ms(text: str) -> int | None:
    """`HH:MM:SS.mmm`, `MM:SS.mmm`, `MM:SS` or `H:MM:SS` as ms; None when it is no clock."""
    m = _PARTS.match(text.strip())
    if m is None:
        return None
    hours, minutes, seconds, fraction = m.groups()
    if int(seconds) > 59 or (hours is not None and int(minutes) > 59):
        return None
    millis = int(fraction.ljust(3, "0")) if fraction else 0
    return ((int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + millis


def number_ms(value: float, unit_ms: int) -> int | None:
    """A finite, non-negative offset in units of `unit_ms` as ms; None when out of range."""
    if not math.isfinite(value) or value < 0 or value > MAX_MS / unit_ms:
        return None
    return round(value * unit_ms)
