"""A spaCy component that marks objection, topic, neutral and pain cues from a pattern file."""

from __future__ import annotations

import json
from pathlib import Path

from spacy.language import Language
from spacy.pipeline import SpanRuler

DATA_DIR = Path(__file__).parent / "data"
PATTERNS_PATH = DATA_DIR / "objection_patterns.jsonl"
CUES_KEY = "vb_cues"

# Label namespaces used in the pattern file.
OBJECTION_PREFIX = "objection:"
TOPIC_PREFIX = "topic:"
GENERIC_LABELS = frozenset({"objection:concern", "objection:doubt"})
# Patterns whose id starts so voice doubt whatever their clause's polarity ("what if it fails?").
DOUBT_ID_PREFIX = "doubt-"
NEUTRAL_LABEL = "neutral"
PAIN_LABEL = "pain"


def load_patterns(path: Path = PATTERNS_PATH) -> list[dict]:
    """Pattern dicts ({"label", "id", "pattern"}) from a JSONL file; blank lines are skipped."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def label_category(label: str) -> str | None:
    """The category a cue label names ("objection:price" -> "price"), None for generic cues."""
    if label in GENERIC_LABELS:
        return None
    for prefix in (OBJECTION_PREFIX, TOPIC_PREFIX):
        if label.startswith(prefix):
            return label[len(prefix) :]
    return None


@Language.factory(
    "verbatim_cues",
    default_config={"spans_key": CUES_KEY, "patterns_path": None},
)
def make_cue_ruler(
    nlp: Language, name: str, spans_key: str, patterns_path: str | None
) -> SpanRuler:
    """A SpanRuler holding the cue patterns; overlapping matches are all kept."""
    ruler = SpanRuler(nlp, name, spans_key=spans_key, validate=True, overwrite=True)
    ruler.add_patterns(load_patterns(Path(patterns_path) if patterns_path else PATTERNS_PATH))
    return ruler
