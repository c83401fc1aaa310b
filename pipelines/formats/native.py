"""verbatim's own JSON: call metadata, participants with roles, and timed utterances."""

from __future__ import annotations

from pipelines.formats.draft import Draft, RawTurn
from pipelines.formats.fields import Field
from pipelines.types import CallMeta, Speaker

OUTCOMES = ("won", "lost", "open")
ROLES = ("rep", "customer")


def parse(root: Field) -> Draft:
    """Every field type-checked; extra fields are ignored."""
    turns = [_turn(u) for u in root.get("utterances").items()]
    speakers = [_speaker(p) for p in root.get("participants").opt_items()]
    return Draft(turns, speakers, _meta(root))


def _meta(root: Field) -> CallMeta:
    external_id = root.get("external_id")
    if not external_id.text().strip():
        raise external_id.fail("a non-empty string")
    return CallMeta(
        external_id=external_id.text().strip(),
        title=root.get("title").opt_text(),
        started_at=root.get("started_at").instant(),
        account=root.get("account").opt_text(),
        deal_stage=root.get("deal_stage").opt_text(),
        outcome=_choice(root.get("outcome"), OUTCOMES),
        tags=tuple(tag.text() for tag in root.get("tags").opt_items()),
    )


def _speaker(p: Field) -> Speaker:
    return Speaker(p.get("name").text(), p.get("email").opt_text(), _choice(p.get("role"), ROLES))


def _turn(u: Field) -> RawTurn:
    return RawTurn(
        u.get("speaker").text(),
        u.get("text").text(),
        u.get("start_ms").ms(1),
        u.get("end_ms").ms(1),
        {"field": f"{u.path}.text"},
    )


def _choice(f: Field, allowed: tuple[str, ...]) -> str | None:
    value = f.opt_text()
    if value is not None and value not in allowed:
        raise f.fail(" or ".join(f'"{a}"' for a in allowed) + " or null")
    return value
