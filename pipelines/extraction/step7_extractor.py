"""Extract objections, questions and pain phrases from customer utterances as exact quotes.

The steps, in the order of this package's files: segments (step 1) -> cues (2) -> polarity (3)
-> features (4) -> the learned model (5) -> narrowing the quote (6) -> mentions (here).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from spacy.language import Language
from spacy.tokens import Doc, Span

# Imported for its @Language.factory registration (it imports the cue ruler's in turn).
import pipelines.extraction.step3_polarity  # noqa: F401
from pipelines.blas import one_blas_thread
from pipelines.embed import Embedder
from pipelines.extraction.key_phrases import key_phrases
from pipelines.extraction.prototypes import PrototypeIndex, Similarities
from pipelines.extraction.rule_scorers import (
    CategoryEvidence,
    Scorers,
    load_scorers,
    mean_of_others,
)
from pipelines.extraction.step1_segments import BACKCHANNEL_KEY, SEGMENTS_KEY
from pipelines.extraction.step4_features import (
    SegmentCues,
    add_context,
    all_features,
    content_words,
    cues_by_segment,
    ends_with_question_mark,
)
from pipelines.extraction.step5_model import (
    SegmentModel,
    category_inputs,
    default_model,
    objection_inputs,
)
from pipelines.extraction.step6_narrowing import narrow
from pipelines.extraction.taxonomy import DEFAULT_TAXONOMY, Category, category_names
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
    vector: np.ndarray
    context_vector: np.ndarray
    confidence: float = 0.0
    category_scores: tuple[float, ...] = ()


class Extractor:
    """Turns utterances into mentions; models load once, extract() is batched."""

    def __init__(
        self,
        nlp: Language,
        embedder: Embedder,
        taxonomy: Sequence[Category] = DEFAULT_TAXONOMY,
        *,
        scorers: Scorers | None = None,
        model: SegmentModel | None = None,
        batch_size: int = 256,
    ) -> None:
        self.nlp = nlp
        self.embedder = embedder
        self.names = category_names(taxonomy)
        self.index = PrototypeIndex(embedder, taxonomy)
        self.scorers = scorers or load_scorers()
        self.model = model or default_model()
        self.batch_size = batch_size
        # Run our components beside the caller's pipeline rather than editing a shared one.
        self._components = [nlp.create_pipe(n) for n in COMPONENTS if n not in nlp.pipe_names]

    def extract(
        self, texts: Sequence[str], contexts: Sequence[str | None] | None = None
    ) -> list[list[ExtractedMention]]:
        """Mentions per utterance, in text order; each is an exact quote of its utterance.

        contexts, when given, holds the rep turn before each utterance (None where unknown).
        """
        return [
            keep_strongest(
                [m for m in (self.mention(s) for s in scored) if m is not None],
                self.model.feed_threshold,
            )
            for scored in self.score(texts, contexts)
        ]

    def score(
        self, texts: Sequence[str], contexts: Sequence[str | None] | None = None
    ) -> list[list[ScoredSegment]]:
        """Every candidate segment per utterance with its evidence (for benchmarks and fitting)."""
        contexts = list(contexts) if contexts is not None else [None] * len(texts)
        if len(contexts) != len(texts):
            raise ValueError("contexts must have one entry per text")
        results: list[list[ScoredSegment]] = []
        with one_blas_thread:
            for start in range(0, len(texts), self.batch_size):
                end = start + self.batch_size
                results += self._score_batch(list(texts[start:end]), contexts[start:end])
        return results

    def mention(self, scored: ScoredSegment) -> ExtractedMention | None:
        """The mention a scored segment makes, if any: objection, then pain, then question."""
        confident = scored.confidence >= self.model.feed_threshold
        # Pain reuses concern words ("days chasing approvals"): an unsure objection yields to it.
        if scored.confidence >= self.model.threshold and (confident or not self._is_pain(scored)):
            quote = narrow(scored.segment, scored.cues.objection_cues())
            return _as_mention(
                quote, "objection", self.category(scored), scored.confidence, confident
            )
        return self.other_mention(scored)

    def _is_pain(self, scored: ScoredSegment) -> bool:
        pain = self.scorers.pain
        return not scored.features["question"] and (
            pain.probability(scored.features) >= pain.threshold
        )

    def other_mention(self, scored: ScoredSegment) -> ExtractedMention | None:
        """A pain or question mention for a segment that is not an objection."""
        features = scored.features
        if content_words(scored.segment) < MIN_CONTENT_WORDS:
            return None
        if self._is_pain(scored):
            p_pain = self.scorers.pain.probability(features)
            return _as_mention(scored.segment, "pain", None, p_pain)
        if features["question"] and features["sim_backchannel"] < BACKCHANNEL_SIMILARITY:
            return _as_mention(
                scored.segment, "question", self._topic(scored), _question_confidence(scored)
            )
        return None

    def category(self, scored: ScoredSegment) -> str:
        """The model's category among this taxonomy's, unless a workspace category is closer."""
        probabilities = dict(zip(self.model.categories, scored.category_scores, strict=True))
        known = [name for name in self.names if name in probabilities]
        similarity = dict(zip(self.names, scored.evidence.similarity, strict=True))
        custom = [name for name in self.names if name not in probabilities]
        if custom:
            closest = max(custom, key=lambda name: similarity[name])
            if not known or similarity[closest] > max(similarity[name] for name in known):
                return closest
        return max(known, key=lambda name: probabilities[name])

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

    def _score_batch(
        self, texts: list[str], contexts: list[str | None]
    ) -> list[list[ScoredSegment]]:
        docs = self._docs(texts)
        segments = [candidates(doc) for doc in docs]
        vectors = self._encode_unique([seg.text for segs in segments for seg in segs])
        sims = self.index.similarities(vectors)
        context_vectors = self._context_vectors(contexts)
        tuned = self._tuned_logits(segments, contexts)
        per_doc, row = [], 0
        for k, (doc, segs) in enumerate(zip(docs, segments, strict=True)):
            per_doc.append(self._score_doc(doc, segs, sims, vectors, row, context_vectors[k]))
            row += len(segs)
        # the models run once over the batch's segments (row by row, so as if per utterance)
        scored = iter(self._apply_model([s for doc_scored in per_doc for s in doc_scored], *tuned))
        return [[next(scored) for _ in doc_scored] for doc_scored in per_doc]

    def _tuned_logits(
        self, segments: list[list[Span]], contexts: list[str | None]
    ) -> tuple[np.ndarray, np.ndarray]:
        """The fine-tuned transformer's logits per segment (empty when the model skips it)."""
        if not self.model.uses_tuned:
            n = sum(map(len, segments))
            return np.zeros(n, dtype=np.float32), np.zeros((n, len(self.model.categories)))
        pairs = [(seg.text, context) for segs, context in zip(segments, contexts, strict=True)
                 for seg in segs]
        from pipelines.extraction.step5_transformer import default_scorer

        return default_scorer().logits([t for t, _ in pairs], [c for _, c in pairs])

    def _context_vectors(self, contexts: list[str | None]) -> np.ndarray:
        """The rep turns' vectors (zero where unknown, or everywhere when the model ignores
        them)."""
        read = self.model.uses_context
        known = [c.strip() if c and read else "" for c in contexts]
        vectors = np.zeros((len(known), self.index.dim), dtype=np.float32)
        rows = [k for k, c in enumerate(known) if c]
        if rows:
            vectors[rows] = self._encode_unique([known[k] for k in rows])
        return vectors

    def _encode_unique(self, texts: list[str]) -> np.ndarray:
        """One encode call per batch; repeated segments ("Sounds good.") are encoded once."""
        unique = list(dict.fromkeys(texts))
        vectors = self.embedder.encode(unique)
        position = {text: k for k, text in enumerate(unique)}
        return vectors[[position[text] for text in texts]] if texts else vectors

    def _score_doc(
        self,
        doc: Doc,
        segs: list[Span],
        sims: Similarities,
        vectors: np.ndarray,
        row: int,
        context_vector: np.ndarray,
    ) -> list[ScoredSegment]:
        cues = cues_by_segment(doc, segs)
        features = [
            all_features(seg, seg_cues, sims.row(row + k))
            for k, (seg, seg_cues) in enumerate(zip(segs, cues, strict=True))
        ]
        add_context(features)
        evidence = [self._evidence(sims.categories[row + k], c) for k, c in enumerate(cues)]
        others = mean_of_others(evidence)
        return [
            ScoredSegment(
                seg, cues[k], features[k], evidence[k], others[k], vectors[row + k], context_vector
            )
            for k, seg in enumerate(segs)
        ]

    def _apply_model(
        self, scored: list[ScoredSegment], tuned: np.ndarray, tuned_category: np.ndarray
    ) -> list[ScoredSegment]:
        if not scored:
            return scored
        vectors = np.stack([s.vector for s in scored])
        contexts = np.stack([s.context_vector for s in scored])
        texts = [s.segment.text for s in scored]
        evidence = self._model_evidence([s.evidence for s in scored])
        confidence, categories = self.model.predict(
            objection_inputs(vectors, contexts, [s.features for s in scored]),
            category_inputs(vectors, evidence),
            texts, tuned, tuned_category,
        )
        return [
            replace(s, confidence=float(p), category_scores=tuple(map(float, c)))
            for s, p, c in zip(scored, confidence, categories, strict=True)
        ]

    def model_evidence(self, evidence: CategoryEvidence) -> np.ndarray:
        """Similarity, rule and topic evidence in the model's category order (0 if absent)."""
        return self._model_evidence([evidence])[0]

    def _model_evidence(self, evidence: list[CategoryEvidence]) -> np.ndarray:
        """model_evidence of many segments as the rows of one array."""
        columns = [self.names.index(n) if n in self.names else -1 for n in self.model.categories]
        known = np.array([c >= 0 for c in columns])
        take = np.array([max(c, 0) for c in columns], dtype=np.intp)
        parts = []
        for field in ("similarity", "rule", "topic"):
            values = np.stack([getattr(e, field) for e in evidence]).astype(np.float32)
            parts.append(np.where(known, values[:, take], np.float32(0.0)))
        return np.hstack(parts)

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


def _question_confidence(scored: ScoredSegment) -> float:
    base = (
        QUESTION_MARK_CONFIDENCE if ends_with_question_mark(scored.segment) else INVERTED_CONFIDENCE
    )
    return base * (1.0 - max(0.0, scored.features["sim_backchannel"] - 0.5))


def _as_mention(
    span: Span, kind: str, category: str | None, confidence: float, confident: bool = True
) -> ExtractedMention:
    return ExtractedMention(
        kind=kind,
        category=category,
        text=span.text,
        start=span.start_char,
        end=span.end_char,
        confidence=round(float(confidence), 4),
        key_phrases=key_phrases(span),
        confident=confident,
    )


def keep_strongest(mentions: list[ExtractedMention], floor: float) -> list[ExtractedMention]:
    """All non-objections, the most confident objection, and other objections >= floor.

    In a long turn the set-up around an objection can score just above the mention threshold;
    a second objection is kept only when it is confident on its own (one mention per objection).
    """
    objections = [m for m in mentions if m.kind == "objection"]
    if len(objections) < 2:
        return mentions
    best = max(objections, key=lambda m: (m.confidence, -m.start))
    return [
        m for m in mentions if m.kind != "objection" or m is best or m.confidence >= floor
    ]
