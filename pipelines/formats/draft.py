"""What a format parser returns, and the one place a draft becomes a checked Conversation."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pipelines.formats.limits import Limits
from pipelines.types import CallMeta, Conversation, ParseError, Speaker, Turn

UNKNOWN_SPEAKER = "Unknown"

# Control characters (NUL above all) and lone surrogates cannot be stored as text downstream.
_UNSTORABLE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ud800-\udfff]")


@dataclass(slots=True)
class RawTurn:
    """A turn as a parser found it; `where` is the error detail that points back at it."""

    speaker: str
    text: str
    start_ms: int | None
    end_ms: int | None
    where: dict[str, int | str]


@dataclass
class Draft:
    """A parser's output before normalisation and limits; `turns` may be a lazy iterator."""

    turns: Iterable[RawTurn]
    speakers: list[Speaker] = field(default_factory=list)
    meta: CallMeta = field(default_factory=CallMeta)


def clean(text: str) -> str:
    """Whitespace collapsed to single spaces, ends stripped, unstorable characters dropped."""
    if _UNSTORABLE.search(text):
        text = _UNSTORABLE.sub(" ", text)
    return " ".join(text.split())


def finish(draft: Draft, *, fmt: str, limits: Limits) -> Conversation:
    """Normalises text, drops empty turns, enforces the turn limits and lists every speaker."""
    turns = _turns(draft.turns, limits)
    return Conversation(
        meta=draft.meta,
        speakers=_speakers(draft.speakers, turns),
        turns=tuple(turns),
        source_format=fmt,
    )


def _turns(raw: Iterable[RawTurn], limits: Limits) -> list[Turn]:
    turns: list[Turn] = []
    for t in raw:
        text = clean(t.text)
        if not text:
            continue
        if len(text) > limits.max_utterance_chars:
            raise ParseError(
                "utterance_too_long",
                f"an utterance has {len(text)} characters; the limit is "
                f"{limits.max_utterance_chars}",
                {**t.where, "limit": limits.max_utterance_chars},
            )
        if len(turns) == limits.max_utterances:
            raise ParseError(
                "too_many_utterances",
                f"more than {limits.max_utterances} utterances",
                {**t.where, "limit": limits.max_utterances},
            )
        turns.append(Turn(clean(t.speaker) or UNKNOWN_SPEAKER, text, t.start_ms, t.end_ms))
    if not turns:
        raise ParseError("no_utterances", "the transcript has no utterances", {"field": "body"})
    return turns


def _speakers(declared: list[Speaker], turns: list[Turn]) -> tuple[Speaker, ...]:
    """Declared participants first, then anyone who speaks without being declared."""
    by_name: dict[str, Speaker] = {}
    for s in declared:
        name = clean(s.name)
        if name and name not in by_name:
            by_name[name] = Speaker(name, clean(s.email or "") or None, s.role)
    for t in turns:
        by_name.setdefault(t.speaker, Speaker(t.speaker))
    return tuple(by_name.values())
