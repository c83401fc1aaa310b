"""A spaCy component that marks objection, topic, neutral and pain cues from a pattern file."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from spacy.language import Language
from spacy.pipeline import SpanRuler
from spacy.tokens import Doc, Span

from pipelines.extraction.screened_matcher import ScreenedMatcher

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


class CueRuler(SpanRuler):
    """A SpanRuler whose token patterns are tried only on docs holding the words they require.

    Over the 255 cue patterns spaCy's one Matcher cost as much as the tagger and parser
    together; screened (screened_matcher.py), matching takes a fraction of that and finds the
    same spans.
    """

    def clear(self) -> None:
        super().clear()
        self._screened = ScreenedMatcher(self.nlp.vocab, [])

    def add_patterns(self, patterns: list[dict]) -> None:
        super().add_patterns(patterns)
        self._screen()

    def remove(self, label: str) -> None:
        super().remove(label)
        self._screen()

    def remove_by_id(self, pattern_id: str) -> None:
        super().remove_by_id(pattern_id)
        self._screen()

    def _screen(self) -> None:
        # each pattern under the key SpanRuler gives it, so _match_label_id_map names its matches
        self._screened = ScreenedMatcher(
            self.nlp.vocab,
            [(repr((entry["label"], entry.get("id", ""))), entry["pattern"])
             for entry in self.patterns if isinstance(entry["pattern"], list)],
            validate=self.validate, fuzzy_compare=self.matcher_fuzzy_compare,
        )

    def match(self, doc: Doc) -> list[Span]:
        """SpanRuler.match, trying only the token patterns whose required words the doc holds."""
        self._require_patterns()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="\\[W036")
            matches = list(self.phrase_matcher(doc)) + self._screened(doc)
        found = {
            Span(doc, start, end, label=self._match_label_id_map[m_id]["label"],
                 span_id=self._match_label_id_map[m_id]["id"])
            for m_id, start, end in matches
            if start != end
        }
        return sorted(found)


@Language.factory(
    "verbatim_cues",
    default_config={"spans_key": CUES_KEY, "patterns_path": None},
)
def make_cue_ruler(
    nlp: Language, name: str, spans_key: str, patterns_path: str | None
) -> SpanRuler:
    """A SpanRuler holding the cue patterns; overlapping matches are all kept."""
    ruler = CueRuler(nlp, name, spans_key=spans_key, validate=True, overwrite=True)
    ruler.add_patterns(load_patterns(Path(patterns_path) if patterns_path else PATTERNS_PATH))
    return ruler
