"""Fireflies.ai sentences (seconds), bare or wrapped in its GraphQL `data.transcript` reply."""

from __future__ import annotations

from pipelines.formats.draft import Draft, RawTurn
from pipelines.formats.fields import Field
from pipelines.types import CallMeta


def transcript_of(root: Field) -> Field | None:
    """The object that holds `sentences`: the root, `transcript`, or `data.transcript`."""
    for path in ((), ("transcript",), ("data", "transcript")):
        node = root
        for key in path:
            node = node.get(key) if isinstance(node.value, dict) else Field(None)
        if node.has("sentences"):
            return node
    return None


def parse(root: Field) -> Draft:
    """Consecutive sentences by one speaker are merged into one turn."""
    node = transcript_of(root)
    if node is None:
        raise root.get("sentences").fail("a list")
    turns: list[RawTurn] = []
    parts: list[list[str]] = []
    for s in node.get("sentences").items():
        speaker = s.get("speaker_name").opt_text() or _speaker_id(s)
        text = s.get("text").text()
        start, end = s.get("start_time").ms(1000), s.get("end_time").ms(1000)
        if turns and turns[-1].speaker == speaker:
            parts[-1].append(text)
            turns[-1].end_ms = end if end is not None else turns[-1].end_ms
            continue
        turns.append(RawTurn(speaker, "", start, end, {"field": f"{s.path}.text"}))
        parts.append([text])
    for turn, texts in zip(turns, parts, strict=True):
        turn.text = " ".join(texts)
    return Draft(turns, meta=_meta(node))


def _speaker_id(sentence: Field) -> str:
    speaker_id = sentence.get("speaker_id").opt_label()
    return "" if speaker_id is None else f"Speaker {speaker_id}"


def _meta(node: Field) -> CallMeta:
    return CallMeta(
        external_id=node.get("id").opt_label(),
        title=node.get("title").opt_text(),
        started_at=node.get("date").instant(),
    )
