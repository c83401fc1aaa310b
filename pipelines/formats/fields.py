"""Typed access to decoded JSON that names the failing field's path in every error."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pipelines.formats.errors import at_field
from pipelines.formats.timecode import number_ms
from pipelines.types import ParseError

_MISSING: Any = object()


class Field:
    """A JSON value and its path from the document root (`utterances[3].text`)."""

    __slots__ = ("path", "value")

    def __init__(self, value: Any, path: str = "") -> None:
        self.value = value
        self.path = path

    @property
    def absent(self) -> bool:
        """Missing or null."""
        return self.value is _MISSING or self.value is None

    def fail(self, expected: str) -> ParseError:
        what = "is required" if self.value is _MISSING else f"must be {expected}"
        return at_field("invalid_field", what, self.path or "body")

    def get(self, key: str) -> Field:
        if not isinstance(self.value, dict):
            raise self.fail("an object")
        return Field(self.value.get(key, _MISSING), f"{self.path}.{key}" if self.path else key)

    def has(self, key: str) -> bool:
        return isinstance(self.value, dict) and key in self.value

    def items(self) -> list[Field]:
        if not isinstance(self.value, list):
            raise self.fail("a list")
        return [Field(v, f"{self.path}[{i}]") for i, v in enumerate(self.value)]

    def opt_items(self) -> list[Field]:
        return [] if self.absent else self.items()

    def text(self) -> str:
        if not isinstance(self.value, str):
            raise self.fail("a string")
        return self.value

    def opt_text(self) -> str | None:
        return None if self.absent else self.text()

    def label(self) -> str:
        """An identifier that sources write as a string or an integer."""
        if isinstance(self.value, int) and not isinstance(self.value, bool):
            return str(self.value)
        if not isinstance(self.value, str):
            raise self.fail("a string or an integer")
        return self.value

    def opt_label(self) -> str | None:
        return None if self.absent else self.label()

    def either(self, *keys: str) -> Field:
        """The first of `keys` this object has (sources spell one field several ways)."""
        return self.get(next((k for k in keys if self.has(k)), keys[0]))

    def opt_bool(self) -> bool | None:
        if self.absent:
            return None
        if not isinstance(self.value, bool):
            raise self.fail("true or false")
        return self.value

    def ms(self, unit_ms: int) -> int | None:
        """An optional offset in seconds (unit_ms=1000) or milliseconds (unit_ms=1), as ms."""
        if self.absent:
            return None
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            raise self.fail("a number")
        try:
            ms = number_ms(float(self.value), unit_ms)
        except OverflowError:  # an integer too big for a float
            ms = None
        if ms is None:
            raise self.fail("a non-negative time offset")
        return ms

    def instant(self) -> datetime | None:
        """An ISO-8601 string or epoch milliseconds as a datetime."""
        if self.absent:
            return None
        try:
            if isinstance(self.value, str):
                return datetime.fromisoformat(self.value.strip())
            if isinstance(self.value, int | float) and not isinstance(self.value, bool):
                return datetime.fromtimestamp(self.value / 1000, tz=UTC)
        except (ValueError, OverflowError, OSError):
            pass
        raise self.fail("an ISO-8601 date-time")
