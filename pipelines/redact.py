"""Masking contact and account details in transcript text before it is stored."""

from __future__ import annotations

import re
from dataclasses import replace

from pipelines.types import Conversation

EMAIL = "[email]"
PHONE = "[phone]"
NUMBER = "[number]"

# Matching starts only where a run of address characters starts: linear time on any text.
_EMAIL = re.compile(
    r"(?<![\w.%+-])[\w.%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}\b"
)
# Digits that belong to a larger number (decimals, thousands, amounts) are never a match start.
_NOT_AFTER = r"(?<![\w$€£.,:/+-])"
_NOT_BEFORE = r"(?![\w%]|[.,:/-]\d)"
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
# Card and account numbers: one unbroken run, or groups of 3+ digits joined by one separator.
_LONG_NUMBER = re.compile(_NOT_AFTER + r"\d{3,}(?:([ -])\d{3,}(?:\1\d{3,})*)?" + _NOT_BEFORE)
_INTL_PHONE = re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}" + _NOT_BEFORE)
_US_PHONE = re.compile(
    _NOT_AFTER + r"(?:1[ .-]?)?(?:\(\d{3}\)[ .-]?|\d{3}[ .-]?)\d{3}[ .-]?\d{4}" + _NOT_BEFORE
)
_LOCAL_PHONE = re.compile(_NOT_AFTER + r"\d{3}[.-]\d{4}" + _NOT_BEFORE)


def _digits(text: str) -> int:
    return sum(c.isdigit() for c in text)


def _iban(m: re.Match[str]) -> str:
    return NUMBER if _digits(m.group()) >= 10 else m.group()


def _long_number(m: re.Match[str]) -> str:
    return NUMBER if 12 <= _digits(m.group()) <= 19 else m.group()


def _intl_phone(m: re.Match[str]) -> str:
    return PHONE if 8 <= _digits(m.group()) <= 15 else m.group()


def redact(text: str) -> str:
    """Emails -> [email]; IBAN, card and account numbers -> [number]; phone numbers -> [phone]."""
    text = _EMAIL.sub(EMAIL, text)
    text = _IBAN.sub(_iban, text)
    text = _INTL_PHONE.sub(_intl_phone, text)  # before long numbers: "+44 20 7946 0958"
    text = _LONG_NUMBER.sub(_long_number, text)
    text = _US_PHONE.sub(PHONE, text)
    return _LOCAL_PHONE.sub(PHONE, text)


def redact_turns(conv: Conversation) -> Conversation:
    """The conversation with every turn's text redacted; speakers and metadata unchanged."""
    turns = tuple(replace(t, text=redact(t.text)) for t in conv.turns)
    return replace(conv, turns=turns)
