"""Merging the metadata a caller passes alongside a body into the payload's own."""

from __future__ import annotations

from dataclasses import fields, replace

from pipelines.types import CallMeta


def merge_meta(payload: CallMeta, caller: CallMeta | None) -> CallMeta:
    """The caller's set fields win; unset ones (None, no tags) keep the payload's values."""
    if caller is None:
        return payload
    given = {
        f.name: getattr(caller, f.name)
        for f in fields(CallMeta)
        if getattr(caller, f.name) not in (None, ())
    }
    return replace(payload, **given)
