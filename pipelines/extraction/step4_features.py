"""Per-segment features for the mention scorers: rule cues, syntax and prototype similarity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from spacy.tokens import Doc, Span

from pipelines.extraction.step1_segments import sentence_of
from pipelines.extraction.step2_cues import (
    GENERIC_LABELS,
    NEUTRAL_LABEL,
    OBJECTION_PREFIX,
    PAIN_LABEL,
    TOPIC_PREFIX,
    label_category,
)
from pipelines.extraction.step3_polarity import HEDGED_KEY, KEPT_KEY, NEUTRALISED_KEY

NEGATION_WORDS = frozenset(
    ["not", "n't", "nt", "never", "no", "nobody", "nothing", "none", "nowhere", "without", "cannot"]
)
WH_WORDS = frozenset({"what", "how", "why", "when", "where", "who", "which", "whose"})
INVERTING_AUX = frozenset(
    [
        "is",
        "are",
        "was",
        "were",
        "am",
        "do",
        "does",
        "did",
        "can",
        "could",
        "will",
        "would",
        "should",
        "shall",
        "may",
        "might",
        "have",
        "has",
    ]
)
# Second words that keep a wh-opening a question: "what's", "what about", "what if".
WH_FOLLOWERS = INVERTING_AUX | {"'s", "about", "if", "happens"}


@dataclass(frozen=True)
class SegmentCues:
    """The cues of one segment's sentence, split by polarity group."""

    kept: tuple[Span, ...]
    neutralised: tuple[Span, ...]
    hedged: tuple[Span, ...]

    def kept_categories(self) -> set[str]:
        """Categories named by kept objection cues (generic cues name none)."""
        return {
            c
            for s in self.kept
            if s.label_.startswith(OBJECTION_PREFIX) and (c := label_category(s.label_))
        }

    def topic_categories(self) -> set[str]:
        """Categories named by topic words."""
        return {
            c
            for s in self.kept
            if s.label_.startswith(TOPIC_PREFIX) and (c := label_category(s.label_))
        }

    def objection_cues(self) -> list[Span]:
        """Kept cues that signal an objection (not topics, neutral or pain)."""
        return [s for s in self.kept if s.label_.startswith(OBJECTION_PREFIX)]


def cues_by_segment(doc: Doc, segments: Sequence[Span]) -> list[SegmentCues]:
    """The cues that fall inside each segment's sentence; the doc's cue groups are read once, not per segment
    (every read of a span group builds its Span objects anew)."""
    groups = [tuple(doc.spans.get(key, [])) for key in (KEPT_KEY, NEUTRALISED_KEY, HEDGED_KEY)]
    found = []
    for segment in segments:
        sentence = sentence_of(segment)
        found.append(SegmentCues(*(
            tuple(s for s in spans if s.start >= sentence.start and s.end <= sentence.end)
            for spans in groups
        )))
    return found


def ends_with_question_mark(segment: Span) -> bool:
    """Whether the segment's sentence ends with "?"."""
    tail = [t for t in sentence_of(segment) if not t.is_space]
    return bool(tail) and tail[-1].text == "?"


def is_question(segment: Span) -> bool:
    """A question mark ends the sentence, or it opens like a question (wh-word, inverted aux)."""
    if ends_with_question_mark(segment):
        return True
    words = [t for t in segment if t.is_alpha]
    if len(words) < 3:
        return False
    first, second = words[0], words[1]
    if first.lower_ in WH_WORDS and second.lower_ in WH_FOLLOWERS:
        return True
    return first.lower_ in INVERTING_AUX and second.pos_ in {"PRON", "DET", "PROPN", "NOUN"}


def cue_features(cues: SegmentCues) -> dict[str, float]:
    """Binary rule features from the cue groups."""
    objection = [s for s in cues.kept if s.label_.startswith(OBJECTION_PREFIX)]
    return {
        "category_cue": float(any(s.label_ not in GENERIC_LABELS for s in objection)),
        "generic_cue": float(any(s.label_ in GENERIC_LABELS for s in objection)),
        # Every objection cue negated or answered: the speaker says it is not a concern.
        "defused_cue": float(
            any(s.label_.startswith(OBJECTION_PREFIX) for s in cues.neutralised) and not objection
        ),
        "hedged_cue": float(any(s.label_.startswith(OBJECTION_PREFIX) for s in cues.hedged)),
        "neutral_cue": float(any(s.label_ == NEUTRAL_LABEL for s in cues.kept)),
        "topic_cue": float(any(s.label_.startswith(TOPIC_PREFIX) for s in cues.kept)),
        "pain_cue": float(any(s.label_ == PAIN_LABEL for s in cues.kept)),
    }


def similarity_features(
    category: float, neutral: float, pain: float, backchannel: float
) -> dict[str, float]:
    """Prototype similarities, named for the scorers."""
    return {
        "sim_category": category,
        "sim_neutral": neutral,
        "sim_pain": pain,
        "sim_backchannel": backchannel,
    }


def content_words(segment: Span) -> int:
    """Alphabetic tokens that are not stopwords."""
    return sum(1 for t in segment if t.is_alpha and not t.is_stop)


def negation_feature(segment: Span, cues: SegmentCues) -> float:
    """1 when the segment is phrased negatively ("it's not broken") and no cue explains why."""
    if any(s.label_.startswith(OBJECTION_PREFIX) for s in cues.neutralised):
        return 0.0
    return float(any(t.lower_ in NEGATION_WORDS or t.dep_ == "neg" for t in segment))


def all_features(segment: Span, cues: SegmentCues, sims: Sequence[float]) -> dict[str, float]:
    """Everything the scorers may use for one segment, before its neighbours are known."""
    features = cue_features(cues)
    features.update(similarity_features(*sims))
    features["negation"] = negation_feature(segment, cues)
    features["question"] = float(is_question(segment))
    return features


def add_context(features: list[dict[str, float]]) -> None:
    """Per segment, what the utterance's other segments say (in place).

    context_neutral: another segment states a topic positively or defuses a concern and raises
    none ("What happens to our data? Not worried, just curious."); context_objection: another
    segment carries an objection cue.
    """
    for i, own in enumerate(features):
        others = features[:i] + features[i + 1 :]
        calm = [
            (f["neutral_cue"] or f["defused_cue"]) and not (f["category_cue"] or f["generic_cue"])
            for f in others
        ]
        own["context_neutral"] = float(any(calm))
        own["context_objection"] = float(any(f["category_cue"] or f["generic_cue"] for f in others))
