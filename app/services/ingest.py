"""From raw request bytes to a stored call: parse (any format), then store idempotently."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlmodel import Session

from app.errors import Unprocessable, VerbatimError, from_parse_error
from app.services.calls import IngestResult, ingest
from app.settings import Settings
from pipelines.formats import FORMATS, Limits, parse
from pipelines.types import CallMeta, ParseError

MAX_BATCH = 100


def limits_of(settings: Settings) -> Limits:
    return Limits(max_bytes=settings.max_body_bytes, max_utterances=settings.max_utterances,
                  max_utterance_chars=settings.max_utterance_chars)


def ingest_bytes(*, session: Session, workspace_id: int, body: bytes, content_type: str | None,
                 fmt: str | None, meta: CallMeta, settings: Settings) -> IngestResult:
    """Parses and stores one transcript; nothing is written when parsing fails."""
    conv = parse(body, content_type=content_type, fmt=fmt, meta=meta, limits=limits_of(settings))
    raw = body.decode("utf-8-sig", errors="replace")
    result = ingest(session=session, workspace_id=workspace_id, conv=conv, raw=raw)
    session.commit()
    return result


@dataclass(frozen=True)
class BatchItem:
    index: int
    result: IngestResult | None = None
    error: VerbatimError | None = None


def ingest_batch(*, session: Session, workspace_id: int, body: bytes,
                 settings: Settings) -> list[BatchItem]:
    """Up to 100 JSON transcripts; each item succeeds or fails on its own."""
    items = _batch_items(body)
    out: list[BatchItem] = []
    for index, item in enumerate(items):
        fmt = item.pop("format", None) if isinstance(item, dict) else None
        if fmt is not None and not isinstance(fmt, str):
            out.append(BatchItem(index=index, error=Unprocessable(
                "format must be a string naming a format", code="invalid_field",
                detail={"field": f"calls.{index}.format", "known": list(FORMATS)})))
            continue
        raw = json.dumps(item, ensure_ascii=False).encode("utf-8")
        try:
            conv = parse(raw, content_type="application/json", fmt=fmt, meta=CallMeta(),
                         limits=limits_of(settings))
            with session.begin_nested():
                result = ingest(session=session, workspace_id=workspace_id, conv=conv,
                                raw=raw.decode("utf-8"))
            out.append(BatchItem(index=index, result=result))
        except ParseError as exc:
            out.append(BatchItem(index=index, error=from_parse_error(exc)))
    session.commit()
    return out


def _batch_items(body: bytes) -> list:
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise VerbatimError("body is not valid UTF-8", code="not_utf8") from exc
    except json.JSONDecodeError as exc:
        raise VerbatimError(f"body is not valid JSON: {exc.msg}", code="invalid_json",
                            detail={"line": exc.lineno, "column": exc.colno}) from exc
    except RecursionError as exc:
        raise VerbatimError("body is nested too deeply", code="invalid_json") from exc
    items = data.get("calls") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise VerbatimError("expected {\"calls\": [...]} with at least one call",
                            code="invalid_field", detail={"field": "calls"})
    if len(items) > MAX_BATCH:
        raise VerbatimError(f"a batch holds at most {MAX_BATCH} calls, got {len(items)}",
                            code="too_many_calls", detail={"field": "calls"})
    return items
