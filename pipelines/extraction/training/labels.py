"""Labelled customer turns (benchmarks/data) and the fixed train / dev / test split rule.

The split is by whole file, so the test figures are on sources no model was trained on (issue
10: "held-out split of sources never used for training"). Decided once, before any new model's
errors were read, and not to be moved after looking at results:
- test: the two highest-numbered files of each own register (clean/STT x b2b/mixed), the
  demo calls of files 07-09 (the mention-level sample), the public MultiDoGO customer-service
  chats (a public dataset and an STT-like register), and the older hand-written held-out set
  (another author);
- dev (model choice, calibration, thresholds): the next two files of each own register, the
  demo calls of file 06 and the public GPT-NegoChat job negotiations;
- train: everything else, and any file added later unless it is named here.
The test split is never used for a decision: not for model choice, calibration or thresholds.
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

_OWN_TEST = {"own-clean-b2b": (9, 10), "own-clean-mixed": (12, 13),
             "own-stt-b2b": (15, 16), "own-stt-mixed": (12, 13)}
_OWN_DEV = {"own-clean-b2b": (7, 8), "own-clean-mixed": (10, 11),
            "own-stt-b2b": (13, 14), "own-stt-mixed": (10, 11)}
TEST_FILES = frozenset(
    [f"{register}-{k:02d}" for register, ks in _OWN_TEST.items() for k in ks]
    + ["demo-calls-07", "demo-calls-08", "demo-calls-09", "public-multidogo-01",
       "extraction_heldout"]
)
DEV_FILES = frozenset(
    [f"{register}-{k:02d}" for register, ks in _OWN_DEV.items() for k in ks]
    + ["demo-calls-06", "public-negochat-01"]
)


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
    file: str = ""  # the labelled file's stem: the unit of the split

    @property
    def objection(self) -> bool:
        return bool(self.objections)

    @property
    def category(self) -> str | None:
        """The primary category (the first objection's), None for a negative turn."""
        return self.objections[0].category if self.objections else None

    @property
    def split(self) -> str:
        return split_of(self.file)


def split_of(file: str) -> str:
    """train, dev or test for a whole labelled file (by its stem)."""
    if file in TEST_FILES:
        return "test"
    return "dev" if file in DEV_FILES else "train"


def _objections(row: dict) -> tuple[Objection, ...]:
    if not row.get("objection"):
        return ()
    found = [Objection(row["quote"], row["category"])]
    found += [Objection(x["quote"], x["category"]) for x in row.get("extra") or []]
    return tuple(o for o in found if o.quote and o.quote in row["text"])


def turn_from_row(
    row: dict, source: str | None = None, group: str | None = None, file: str = ""
) -> Turn:
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
        file=file,
    )


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_turns(data_dir: Path = DATA_DIR) -> list[Turn]:
    """Every labelled turn: the labelled/ files plus the two older hand-written sets."""
    turns = []
    for source, name in LEGACY_FILES.items():
        if (data_dir / name).exists():
            stem = Path(name).stem
            turns += [turn_from_row(row, source, file=stem) for row in read_jsonl(data_dir / name)]
    for path in sorted((data_dir / "labelled").glob("*.jsonl")):
        turns += [
            turn_from_row(row, file=path.stem)
            for row in read_jsonl(path)
            if row.get("text", "").strip()
        ]
    return turns
