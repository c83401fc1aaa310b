"""Gong's call-transcript export: monologue blocks of timed sentences, parties by speakerId."""

from __future__ import annotations

from pipelines.formats.draft import Draft, RawTurn
from pipelines.formats.fields import Field
from pipelines.types import CallMeta, Speaker

AFFILIATION_ROLES = {"internal": "rep", "external": "customer"}


def parse(root: Field) -> Draft:
    """One turn per transcript block: its sentences joined, from the first start to the last end."""
    calls = root.get("callTranscripts").items()
    if len(calls) > 1:
        raise root.get("callTranscripts").fail("a list with one call (post calls one at a time)")
    names, speakers = _parties(root.get("parties"))
    blocks = calls[0].get("transcript").items() if calls else []
    turns = [_turn(b, names) for b in blocks]
    return Draft(turns, speakers, _meta(root, calls[0] if calls else None))


def _parties(parties: Field) -> tuple[dict[str, str], list[Speaker]]:
    names: dict[str, str] = {}
    speakers = []
    for p in parties.opt_items():
        email = p.get("emailAddress").opt_text()
        name = p.get("name").opt_text() or email
        affiliation = (p.get("affiliation").opt_text() or "").lower()
        speaker_id = p.get("speakerId").opt_label()
        if name:
            speakers.append(Speaker(name, email, AFFILIATION_ROLES.get(affiliation)))
            if speaker_id is not None:
                names[speaker_id] = name
    return names, speakers


def _turn(block: Field, names: dict[str, str]) -> RawTurn:
    speaker_id = block.get("speakerId").label()
    sentences = block.get("sentences").items()
    texts = [s.get("text").text() for s in sentences]
    starts = [s.get("start").ms(1) for s in sentences]
    ends = [s.get("end").ms(1) for s in sentences]
    return RawTurn(
        names.get(speaker_id, f"Speaker {speaker_id}"),
        " ".join(texts),
        starts[0] if starts else None,
        ends[-1] if ends else None,
        {"field": f"{block.path}.sentences"},
    )


def _meta(root: Field, call: Field | None) -> CallMeta:
    data = root.get("metaData")
    if data.absent:
        data = Field({}, "metaData")
    external_id = data.get("id").opt_label() or (call.get("callId").opt_label() if call else None)
    return CallMeta(
        external_id=external_id,
        title=data.get("title").opt_text(),
        started_at=data.get("started").instant(),
    )
