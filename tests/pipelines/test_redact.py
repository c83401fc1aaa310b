"""pipelines.redact: contact and account details masked, ordinary numbers left alone."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.redact import redact, redact_turns
from pipelines.types import CallMeta, Conversation, Speaker, Turn


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail jane.doe+crm@north-wind.co.uk today", "mail [email] today"),
        ("ops@acme.io, or sales@acme.io.", "[email], or [email]."),
        ("call (415) 555-0132 now", "call [phone] now"),
        ("it's 415-555-0132", "it's [phone]"),
        ("it's 415.555.0132.", "it's [phone]."),
        ("try 4155550132", "try [phone]"),
        ("toll free 1-800-555-0199", "toll free [phone]"),
        ("US +1 415 555 0132", "US [phone]"),
        ("London +44 20 7946 0958", "London [phone]"),
        ("Berlin +49 30 12345678", "Berlin [phone]"),
        ("Paris +33 1 42 68 53 00", "Paris [phone]"),
        ("desk 555-1234", "desk [phone]"),
        ("card 4111 1111 1111 1111 exp 12/27", "card [number] exp 12/27"),
        ("card 4111-1111-1111-1111", "card [number]"),
        ("amex 378282246310005", "amex [number]"),
        ("account 000123456789", "account [number]"),
        ("IBAN GB82 WEST 1234 5698 7654 32", "IBAN [number]"),
        ("IBAN DE89370400440532013000", "IBAN [number]"),
    ],
)
def test_redacts(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "the budget is $45,000 this year",
        "we renew in 2026",
        "let's talk at 3 p.m. or 10:30",
        "we run version 2.1.4 and v10.2.3.4",
        "revenue was $1,250,000.00, about 1.5 million",
        "1,234,567 events from 2025-2026",
        "the pilot starts 2026-01-15 or 12/25/2026",
        "we have 150 reps and 2,400 seats, 20% of them in Q3 2026",
        "ticket #48213, order 12345, ISO 27001 and SOC 2 Type II",
        "pi is 3.14159265358979",
        "€2.500.000 total",
    ],
)
def test_leaves_ordinary_numbers_alone(text: str) -> None:
    assert redact(text) == text


def test_redact_turns_masks_text_only() -> None:
    speakers = (Speaker("Ann", "ann@acme.io", "rep"),)
    conv = Conversation(
        meta=CallMeta(external_id="c1"),
        speakers=speakers,
        turns=(Turn("Ann", "reach me at ann@acme.io or 415-555-0132", 0, 900),),
        source_format="vtt",
    )
    out = redact_turns(conv)
    assert out.turns == (Turn("Ann", "reach me at [email] or [phone]", 0, 900),)
    assert (out.speakers, out.meta, out.source_format) == (speakers, conv.meta, "vtt")


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_redaction_is_idempotent_and_spares_text_without_digits_or_at(text: str) -> None:
    once = redact(text)
    assert redact(once) == once
    if "@" not in text and not any(c.isdigit() for c in text):
        assert once == text
