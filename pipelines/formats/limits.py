"""Size limits a parse enforces, so one upload cannot exhaust the service."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Upper bounds on the raw body, the number of turns and the length of one turn."""

    max_bytes: int = 20 * 1024 * 1024
    max_utterances: int = 20_000
    max_utterance_chars: int = 20_000
