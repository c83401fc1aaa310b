"""Chorus (ZoomInfo) utterances: snippets timed in seconds, speakers typed rep or customer."""

from __future__ import annotations

from pipelines.formats.draft import Draft, RawTurn
from pipelines.formats.fields import Field
from pipelines.types import CallMeta, Speaker

TYPE_ROLES = {
    "rep": "rep",
    "internal": "rep",
    "cust": "customer",
    "customer": "customer",
    "prospect": "customer",
    "external": "customer",
}


def parse(root: Field) -> Draft:
    """One turn per snippet; names come from the snippet, else from `participants` by id."""
    known: dict[str, str] = {}
    speakers: list[Speaker] = []
    for p in root.get("participants").opt_items():
        speaker = _participant(p)
        speakers.append(speaker)
        speaker_id = p.either("speaker_id", "id").opt_label()
        if speaker_id is not None:
            known[speaker_id] = speaker.name
    turns = []
    for u in root.get("utterances").items():
        name, declared = _utterance_speaker(u, known)
        if declared is not None:
            speakers.append(declared)
        start = u.get("snippet_time").ms(1000)
        duration = u.get("snippet_duration").ms(1000)
        end = start + duration if start is not None and duration is not None else None
        turns.append(
            RawTurn(name, u.get("snippet").text(), start, end, {"field": f"{u.path}.snippet"})
        )
    return Draft(
        turns, speakers, CallMeta(external_id=root.either("engagement_id", "id").opt_label())
    )


def _participant(p: Field) -> Speaker:
    kind = p.either("speaker_type", "type").opt_text()
    return Speaker(p.get("name").text(), p.get("email").opt_text(), _role(kind))


def _utterance_speaker(u: Field, known: dict[str, str]) -> tuple[str, Speaker | None]:
    """The display name, and a Speaker when the snippet itself names and types the speaker."""
    speaker_id = u.get("speaker_id").opt_label()
    name = u.get("speaker_name").opt_text()
    if name:
        return name, Speaker(name, None, _role(u.get("speaker_type").opt_text()))
    if speaker_id is not None:
        return known.get(speaker_id, f"Speaker {speaker_id}"), None
    return "", None


def _role(kind: str | None) -> str | None:
    return TYPE_ROLES.get((kind or "").strip().lower())
