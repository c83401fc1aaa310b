"""Avoma's transcript: a speaker list (with is_rep) and segments timed as [start_s, end_s]."""

from __future__ import annotations

from pipelines.formats.draft import Draft, RawTurn
from pipelines.formats.fields import Field
from pipelines.types import CallMeta, Speaker


def parse(root: Field) -> Draft:
    """One turn per transcript segment."""
    names: dict[str, str] = {}
    speakers = []
    for s in root.get("speakers").items():
        is_rep = s.get("is_rep").opt_bool()
        role = None if is_rep is None else ("rep" if is_rep else "customer")
        speaker = Speaker(s.get("name").text(), s.get("email").opt_text(), role)
        speakers.append(speaker)
        names[s.get("id").label()] = speaker.name
    turns = [_turn(seg, names) for seg in root.get("transcript").items()]
    return Draft(
        turns, speakers, CallMeta(external_id=root.either("uuid", "meeting_uuid").opt_label())
    )


def _turn(seg: Field, names: dict[str, str]) -> RawTurn:
    speaker_id = seg.get("speaker_id").label()
    start, end = _span(seg.get("timestamps"))
    return RawTurn(
        names.get(speaker_id, f"Speaker {speaker_id}"),
        seg.get("transcript").text(),
        start,
        end,
        {"field": f"{seg.path}.transcript"},
    )


def _span(stamps: Field) -> tuple[int | None, int | None]:
    if stamps.absent:
        return None, None
    pair = stamps.items()
    if len(pair) != 2:
        raise stamps.fail("[start_seconds, end_seconds]")
    return pair[0].ms(1000), pair[1].ms(1000)
