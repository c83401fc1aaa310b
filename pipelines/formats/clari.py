"""Clari Copilot's conversation turns (seconds) with people looked up by person_id."""

from __future__ import annotations

from pipelines.formats.draft import Draft, RawTurn
from pipelines.formats.fields import Field
from pipelines.types import CallMeta, Speaker


def parse(root: Field) -> Draft:
    """One turn per conversation turn."""
    people = root.either("people", "participants")
    names: dict[str, str] = {}
    speakers = []
    for p in people.opt_items():
        speaker = _person(p)
        speakers.append(speaker)
        person_id = p.either("person_id", "id").opt_label()
        if person_id is not None:
            names[person_id] = speaker.name
    turns = [_turn(t, names) for t in root.get("ext_conversation_turns").items()]
    return Draft(turns, speakers, CallMeta(external_id=root.either("call_id", "id").opt_label()))


def _person(p: Field) -> Speaker:
    internal = p.get("is_internal").opt_bool()
    role = None if internal is None else ("rep" if internal else "customer")
    return Speaker(p.get("name").text(), p.get("email").opt_text(), role)


def _turn(t: Field, names: dict[str, str]) -> RawTurn:
    person_id = t.get("person_id").label()
    return RawTurn(
        names.get(person_id, f"Speaker {person_id}"),
        t.get("text").text(),
        t.get("start").ms(1000),
        t.get("end").ms(1000),
        {"field": f"{t.path}.text"},
    )
