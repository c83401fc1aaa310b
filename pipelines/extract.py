"""Extract objections, questions and pain phrases from customer utterances as exact quotes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from spacy.language import Language
from spacy.tokens import Doc, Span

# Imported for its @Language.factory registration (it imports the cue ruler's in turn).
import pipelines.polarity  # noqa: F401
from pipelines.embed import Embedder
from pipelines.key_phrases import key_phrases
from pipelines.narrow import narrow
from pipelines.prototypes import PrototypeIndex, Similarities
from pipelines.scoring import CategoryEvidence, Scorers, load_scorers
from pipelines.segment_features import (
    SegmentCues,
    add_context,
    all_features,
    content_words,
    ends_with_question_mark,
    segment_cues,
)
from pipelines.segments import BACKCHANNEL_KEY, SEGMENTS_KEY
from pipelines.taxonomy import DEFAULT_TAXONOMY, Category, category_names
from pipelines.types import ExtractedMention

COMPONENTS = ("verbatim_segments", "verbatim_cues", "verbatim_cue_polarity")

# Questions and their topics use hand-set values: a "?" is strong evidence of a question, an
# inverted opening without one less so; near-backchannel questions are dropped or discounted.
QUESTION_MARK_CONFIDENCE = 0.9
INVERTED_CONFIDENCE = 0.6
BACKCHANNEL_SIMILARITY = 0.75
QUESTION_TOPIC_SCORE = 0.45
MIN_CONTENT_WORDS = 2


def add_components(nlp: Language) -> Language:
    """Add the verbatim segment, cue and polarity components to nlp (idempotent)."""
    for name in COMPONENTS:
        if name not in nlp.pipe_names:
            nlp.add_pipe(name)
    return nlp


@dataclass(frozen=True)
class ScoredSegment:
    """One candidate quote with its evidence, before it becomes (or not) a mention."""

    segment: Span
    cues: SegmentCues
    features: Mapping[str, float]
    evidence: CategoryEvidence
    context: CategoryEvidence | None


class Extractor:
    """Turns utterances into mentions; models load once, extract() is batched."""

    def __init__(
        self,
        nlp: Language,
        embedder: Embedder,
        taxonomy: Sequence[Category] = DEFAULT_TAXONOMY,
        *,
        scorers: Scorers | None = None,
        batch_size: int = 256,
    ) -> None:
        self.nlp = nlp
        self.embedder = embedder
        self.names = category_names(taxonomy)
        self.index = PrototypeIndex(embedder, taxonomy)
        self.scorers = scorers or load_scorers()
        self.batch_size = batch_size
        # Run our components beside the caller's pipeline rather than editing a shared one.
        self._components = [nlp.create_pipe(n) for n in COMPONENTS if n not in nlp.pipe_names]

    def extract(self, texts: Sequence[str]) -> list[list[ExtractedMention]]:
        """Mentions per utterance, in text order; each is an exact quote of its utterance."""
        return [
            keep_strongest([m for m in (self.mention(s) for s in scored) if m is not None])
            for scored in self.score(texts)
        ]

    def score(self, texts: Sequence[str]) -> list[list[ScoredSegment]]:
        """Every candidate segment per utterance with its evidence (for benchmarks and fitting)."""
        results: list[list[ScoredSegment]] = []
        for start in range(0, len(texts), self.batch_size):
            results += self._score_batch(list(texts[start : start + self.batch_size]))
        return results

    def mention(self, scored: ScoredSegment) -> ExtractedMention | None:
        """The mention a scored segment makes, if any: objection, then pain, then question."""
        features = scored.features
        objection = self.scorers.objection
        p_objection = objection.probability(features)
        if p_objection >= objection.threshold:
            quote = narrow(scored.segment, scored.cues.objection_cues())
            return _as_mention(quote, "objection", self.category(scored), p_objection)
        if content_words(scored.segment) < MIN_CONTENT_WORDS:
            return None
        pain = self.scorers.pain
        p_pain = pain.probability(features)
        if not features["question"] and p_pain >= pain.threshold:
            return _as_mention(scored.segment, "pain", None, p_pain)
        if features["question"] and features["sim_backchannel"] < BACKCHANNEL_SIMILARITY:
            return _as_mention(
                scored.segment, "question", self._topic(scored), _question_confidence(scored)
            )
        return None

    def category(self, scored: ScoredSegment) -> str:
        """The best-scoring category for a segment."""
        return self.names[
            int(np.argmax(self.scorers.category.scores(scored.evidence, scored.context)))
        ]

    def _topic(self, scored: ScoredSegment) -> str | None:
        scores = self.scorers.category.scores(scored.evidence, None)
        best = int(np.argmax(scores))
        return self.names[best] if scores[best] >= QUESTION_TOPIC_SCORE else None

    def _docs(self, texts: list[str]) -> list[Doc]:
        docs = []
        for doc in self.nlp.pipe(texts, batch_size=64):
            for component in self._components:
                doc = component(doc)
            docs.append(doc)
        return docs

    def _score_batch(self, texts: list[str]) -> list[list[ScoredSegment]]:
        docs = self._docs(texts)
        segments = [candidates(doc) for doc in docs]
        sims = self.index.similarities(
            self._encode_unique([seg.text for segs in segments for seg in segs])
        )
        results, row = [], 0
        for doc, segs in zip(docs, segments, strict=True):
            results.append(self._score_doc(doc, segs, sims, row))
            row += len(segs)
        return results

    def _encode_unique(self, texts: list[str]) -> np.ndarray:
        """One encode call per batch; repeated segments ("Sounds good.") are encoded once."""
        unique = list(dict.fromkeys(texts))
        vectors = self.embedder.encode(unique)
        position = {text: k for k, text in enumerate(unique)}
        return vectors[[position[text] for text in texts]] if texts else vectors

    def _score_doc(
        self, doc: Doc, segs: list[Span], sims: Similarities, row: int
    ) -> list[ScoredSegment]:
        cues = [segment_cues(doc, seg) for seg in segs]
        features = [
            all_features(seg, seg_cues, sims.row(row + k))
            for k, (seg, seg_cues) in enumerate(zip(segs, cues, strict=True))
        ]
        add_context(features)
        evidence = [self._evidence(sims.categories[row + k], c) for k, c in enumerate(cues)]
        return [
            ScoredSegment(
                seg,
                cues[k],
                features[k],
                evidence[k],
                _mean_evidence(evidence[:k] + evidence[k + 1 :]),
            )
            for k, seg in enumerate(segs)
        ]

    def _evidence(self, similarity: np.ndarray, cues: SegmentCues) -> CategoryEvidence:
        rule = np.zeros(len(self.names))
        topic = np.zeros(len(self.names))
        for vector, found in ((rule, cues.kept_categories()), (topic, cues.topic_categories())):
            for name in found & set(self.names):
                vector[self.names.index(name)] = 1.0
        return CategoryEvidence(similarity.astype(np.float64), rule, topic)


def candidates(doc: Doc) -> list[Span]:
    """The doc's segments that are more than backchannel ("can you hear me?")."""
    trivial = {(span.start, span.end) for span in doc.spans[BACKCHANNEL_KEY]}
    return [seg for seg in doc.spans[SEGMENTS_KEY] if (seg.start, seg.end) not in trivial]


def _mean_evidence(evidence: list[CategoryEvidence]) -> CategoryEvidence | None:
    if not evidence:
        return None
    return CategoryEvidence(
        np.mean([e.similarity for e in evidence], axis=0),
        np.mean([e.rule for e in evidence], axis=0),
        np.mean([e.topic for e in evidence], axis=0),
    )


def _question_confidence(scored: ScoredSegment) -> float:
    base = (
        QUESTION_MARK_CONFIDENCE if ends_with_question_mark(scored.segment) else INVERTED_CONFIDENCE
    )
    return base * (1.0 - max(0.0, scored.features["sim_backchannel"] - 0.5))


def _as_mention(span: Span, kind: str, category: str | None, confidence: float) -> ExtractedMention:
    return ExtractedMention(
        kind=kind,
        category=category,
        text=span.text,
        start=span.start_char,
        end=span.end_char,
        confidence=round(float(confidence), 4),
        key_phrases=key_phrases(span),
    )


# In a long turn, sentences around an objection often score just above the threshold (the
# set-up, the numbers). A content writer wants the one that states it: the best objection of a
# turn is kept, and others only when they are confident on their own.
SECOND_OBJECTION_MIN = 0.6


def keep_strongest(mentions: list[ExtractedMention]) -> list[ExtractedMention]:
    """All non-objections, the most confident objection, and other objections >= 0.6."""
    objections = [m for m in mentions if m.kind == "objection"]
    if len(objections) < 2:
        return mentions
    best = max(objections, key=lambda m: (m.confidence, -m.start))
    return [m for m in mentions if m.kind != "objection" or m is best
            or m.confidence >= SECOND_OBJECTION_MIN]
