"""Diarized speech-to-text output (AssemblyAI style): anonymous speakers, times in ms."""

from __future__ import annotations

import re

from pipelines.formats.draft import Draft, RawTurn
from pipelines.formats.fields import Field
from pipelines.types import CallMeta

# Diarizers label speakers "A", "B" or 0, 1; anything longer is taken to be a name already.
_BARE_LABEL = re.compile(r"^(?:[A-Za-z]|\d+)$")


def parse(root: Field) -> Draft:
    """One turn per utterance; label "A" becomes speaker "Speaker A"."""
    turns = [_turn(u) for u in root.get("utterances").items()]
    return Draft(turns, meta=CallMeta(external_id=root.get("id").opt_label()))


def _turn(u: Field) -> RawTurn:
    label = u.get("speaker").label().strip()
    return RawTurn(
        f"Speaker {label}" if _BARE_LABEL.match(label) else label,
        u.get("text").text(),
        u.get("start").ms(1),
        u.get("end").ms(1),
        {"field": f"{u.path}.text"},
    )
