"""Labelled customer turns (benchmarks/data) and the fixed train / dev / test split rule.

The split is decided per conversation (`group`) by a hash, so a file added later falls into
the same splits without anyone choosing; a whole source written by a different author
(legacy-heldout) is test only. The test split is never used for a decision: not for model
choice, calibration or thresholds.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[3] / "benchmarks" / "data"
LABELLED_DIR = DATA_DIR / "labelled"
LEGACY_FILES = {"legacy-dev": "extraction_dev.jsonl", "legacy-heldout": "extraction_heldout.jsonl"}
SPLITS = ("train", "dev", "test")

# Percent of groups in (test, dev) per source kind; the rest is train. The demo calls give
# the mention-level sample, so half of them are test; whole-source holdouts are all test.
SHARES: dict[str, tuple[int, int]] = {"demo": (50, 20), "legacy-heldout": (100, 0)}
DEFAULT_SHARES = (30, 20)


@dataclass(frozen=True)
class Objection:
    """One gold objection of a turn: the quote that states it and its category."""

    quote: str
    category: str


@dataclass(frozen=True)
class Turn:
    """One labelled customer turn with the rep turn before it."""

    id: str
    source: str
    group: str
    text: str
    context: str | None
    objections: tuple[Objection, ...]
    domain: str | None = None

    @property
    def objection(self) -> bool:
        return bool(self.objections)

    @property
    def category(self) -> str | None:
        """The primary category (the first objection's), None for a negative turn."""
        return self.objections[0].category if self.objections else None

    @property
    def split(self) -> str:
        return split_of(self.source, self.group)


def split_of(source: str, group: str) -> str:
    """train, dev or test for a conversation, by a hash of its group within its source."""
    test, dev = SHARES.get(source, DEFAULT_SHARES)
    bucket = int(hashlib.sha256(f"{source}/{group}".encode()).hexdigest(), 16) % 100
    if bucket < test:
        return "test"
    return "dev" if bucket < test + dev else "train"


def _objections(row: dict) -> tuple[Objection, ...]:
    if not row.get("objection"):
        return ()
    found = [Objection(row["quote"], row["category"])]
    found += [Objection(x["quote"], x["category"]) for x in row.get("extra") or []]
    return tuple(o for o in found if o.quote and o.quote in row["text"])


def _turn(row: dict, source: str | None = None, group: str | None = None) -> Turn:
    text = row["text"]
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    source = source or row["source"]
    return Turn(
        id=row.get("id") or f"{source}-{digest}",
        source=source,
        group=group or row.get("group") or digest,
        text=text,
        context=row.get("context") or None,
        objections=_objections(row),
        domain=row.get("domain"),
    )


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_turns(data_dir: Path = DATA_DIR) -> list[Turn]:
    """Every labelled turn: the labelled/ files plus the two older hand-written sets."""
    turns = []
    for source, name in LEGACY_FILES.items():
        if (data_dir / name).exists():
            turns += [_turn(row, source) for row in read_jsonl(data_dir / name)]
    for path in sorted((data_dir / "labelled").glob("*.jsonl")):
        turns += [_turn(row) for row in read_jsonl(path) if row.get("text", "").strip()]
    return turns


def source_kind(source: str) -> str:
    """The source reported as one row: own-clean, own-stt, demo, public-<x>, legacy-*."""
    return source
