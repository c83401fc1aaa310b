"""The learned segment model: is this segment an objection, how sure, and which category.

Inputs per candidate segment: its sentence vector, the vector of the rep turn before it (zeros
when unknown) and the rule features of step 4. Two linear models, fitted by
`training/fit.py` on segment-level labels (`make train-extractor`) and stored as plain arrays in
data/segment_model.npz (a few hundred KB, no pickle):
- objection: logistic regression, then Platt scaling fitted on the dev split, so `confidence`
  is a calibrated probability that the segment states an objection;
- category: a softmax over the nine default categories on the segment vector, prototype
  similarities and cue categories, fitted on positive segments only;
- lexical: the same two decisions from the segment's own words (TF-IDF of words and word
  pairs, logistic). The sentence vector blurs wording that decides an objection ("we can't
  justify it" vs "we can justify it"); the words alone catch some of that. Its logits are
  added to the embedding model's before Platt scaling (on dev: segment average precision 0.63
  -> 0.68, recall at turn precision 0.85 0.38 -> 0.50);
- tuned: the fine-tuned MiniLM's logits (step5_transformer.py), on the segment with its rep
  turn. Its objection logit joins the sum before Platt scaling and its category
  log-probabilities join the category scores, each with a weight chosen on dev (0: unused,
  and then the transformer is never loaded).
`threshold` is the lowest confidence that makes a mention at all; `feed_threshold` is the one
chosen on dev for precision >= 0.85, below which a mention stays on the call page but not in
the feed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from pipelines.extraction.step2_cues import DATA_DIR

MODEL_PATH = DATA_DIR / "segment_model.npz"

# The cue bonuses of the issue-4 category weights (rule_scorers.CategoryWeights).
RULE_BONUS = 0.2
TOPIC_BONUS = 0.1

RULE_FEATURES = (
    "category_cue",
    "generic_cue",
    "defused_cue",
    "hedged_cue",
    "neutral_cue",
    "topic_cue",
    "pain_cue",
    "question",
    "negation",
    "sim_category",
    "sim_neutral",
    "sim_pain",
    "sim_backchannel",
    "context_neutral",
    "context_objection",
)


@dataclass(frozen=True)
class Linear:
    """logits = X @ coef.T + bias (standardisation is folded into coef and bias)."""

    coef: np.ndarray
    bias: np.ndarray

    def logits(self, inputs: np.ndarray) -> np.ndarray:
        return inputs @ self.coef.T + self.bias


# The lexical model's vocabulary: lowercased words (2+ characters) and word pairs.
NGRAMS = (1, 2)


@dataclass(frozen=True)
class Lexical:
    """Objection and category logits from a segment's TF-IDF word vector."""

    vocabulary: tuple[str, ...]
    idf: np.ndarray
    objection: Linear
    category: Linear

    @cached_property
    def _vectorizer(self) -> TfidfVectorizer:
        vectorizer = TfidfVectorizer(
            ngram_range=NGRAMS, sublinear_tf=True, vocabulary=list(self.vocabulary)
        )
        vectorizer.idf_ = self.idf
        return vectorizer

    def weights(self, texts: Sequence[str]):
        """(n, vocabulary) sparse TF-IDF rows."""
        return self._vectorizer.transform(list(texts))

    def objection_logits(self, texts: Sequence[str]) -> np.ndarray:
        return self.objection_logits_of(self.weights(texts))

    def category_logits(self, texts: Sequence[str]) -> np.ndarray:
        return self.category_logits_of(self.weights(texts))

    # The same from weights(texts) already computed: the transform costs more than the products,
    # so the extractor reads a batch's words once for both decisions.
    def objection_logits_of(self, words) -> np.ndarray:
        scores = np.asarray(words @ self.objection.coef.T).reshape(-1)
        return scores + self.objection.bias[0]

    def category_logits_of(self, words) -> np.ndarray:
        return np.asarray(words @ self.category.coef.T) + self.category.bias


@dataclass(frozen=True)
class SegmentModel:
    """The objection and category models with their calibration and thresholds."""

    objection: Linear
    platt: tuple[float, float]
    threshold: float
    feed_threshold: float
    categories: tuple[str, ...]
    category: Linear
    # Weight of the prototype score (similarity + cue bonuses) added to the log-probabilities:
    # the two disagree on different segments, the blend's weight is chosen on dev.
    prototype_weight: float = 0.0
    lexical: Lexical | None = None
    tuned_weight: float = 0.0
    tuned_category_weight: float = 0.0

    @property
    def uses_tuned(self) -> bool:
        """Whether the fine-tuned transformer's logits are needed."""
        return bool(self.tuned_weight or self.tuned_category_weight)

    @property
    def uses_context(self) -> bool:
        """Whether the rep turn's vector moves the objection logit: the shipped model was fitted
        with that block zeroed (training/fit.py's without_context), so encoding the rep turns
        (about as many words as the customer's) would be multiplied by 0."""
        dims = (self.objection.coef.shape[1] - len(RULE_FEATURES)) // 2
        return bool(np.any(self.objection.coef[:, dims:2 * dims]))

    def objection_logits(
        self, inputs: np.ndarray, texts: Sequence[str], tuned: np.ndarray | None = None
    ) -> np.ndarray:
        """Uncalibrated objection score: the embedding model's logit plus the lexical one and
        the weighted fine-tuned one (tuned: its objection logits, needed when its weight is
        not 0)."""
        return self._objection_logits(inputs, self._words(texts), tuned)

    def confidence(
        self, inputs: np.ndarray, texts: Sequence[str], tuned: np.ndarray | None = None
    ) -> np.ndarray:
        """Calibrated probability that each row's segment (texts[k]) states an objection."""
        return self._confidence(inputs, self._words(texts), tuned)

    def category_scores(
        self, inputs: np.ndarray, texts: Sequence[str], tuned: np.ndarray | None = None
    ) -> np.ndarray:
        """Log-probabilities of the category models plus the weighted prototype score of
        category_inputs' evidence (tuned: the fine-tuned category logits, when weighted)."""
        return self._category_scores(inputs, self._words(texts), tuned)

    def predict(
        self, objection_x: np.ndarray, category_x: np.ndarray, texts: Sequence[str],
        tuned: np.ndarray | None = None, tuned_category: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """confidence() and category_scores() of the same segments, their words read once."""
        words = self._words(texts)
        return (self._confidence(objection_x, words, tuned),
                self._category_scores(category_x, words, tuned_category))

    def _words(self, texts: Sequence[str]):
        return self.lexical.weights(texts) if self.lexical else None

    def _objection_logits(self, inputs: np.ndarray, words, tuned: np.ndarray | None) -> np.ndarray:
        logits = self.objection.logits(inputs)[:, 0]
        if self.lexical:
            logits = logits + self.lexical.objection_logits_of(words)
        if self.tuned_weight:
            if tuned is None:
                raise ValueError("this model needs the fine-tuned transformer's logits")
            logits = logits + self.tuned_weight * tuned
        return logits

    def _confidence(self, inputs: np.ndarray, words, tuned: np.ndarray | None) -> np.ndarray:
        a, b = self.platt
        return sigmoid(a * self._objection_logits(inputs, words, tuned) + b)

    def _category_scores(self, inputs: np.ndarray, words, tuned: np.ndarray | None) -> np.ndarray:
        k = len(self.categories)
        evidence = inputs[:, -3 * k :]
        prototype = evidence[:, :k] + RULE_BONUS * evidence[:, k : 2 * k]
        prototype = prototype + TOPIC_BONUS * evidence[:, 2 * k :]
        log_p = np.log(softmax(self.category.logits(inputs)) + 1e-9)
        if self.lexical:
            log_p = log_p + np.log(softmax(self.lexical.category_logits_of(words)) + 1e-9)
        if self.tuned_category_weight:
            if tuned is None:
                raise ValueError("this model needs the fine-tuned transformer's logits")
            log_p = log_p + self.tuned_category_weight * np.log(softmax(tuned) + 1e-9)
        return log_p + self.prototype_weight * prototype


def blank_model(dim: int, categories: Sequence[str]) -> SegmentModel:
    """A model that finds nothing: lets the training code run the pipeline before a fit."""
    n_inputs = 2 * dim + len(RULE_FEATURES)
    return SegmentModel(
        objection=Linear(np.zeros((1, n_inputs)), np.full(1, -30.0)),
        platt=(1.0, 0.0),
        threshold=0.5,
        feed_threshold=0.5,
        categories=tuple(categories),
        category=Linear(np.zeros((len(categories), dim + 3 * len(categories))), np.zeros(len(categories))),
    )


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0)))


def softmax(z: np.ndarray) -> np.ndarray:
    shifted = np.exp(z - z.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def rule_matrix(features: Sequence[Mapping[str, float]]) -> np.ndarray:
    """The rule features of step 4 as columns in RULE_FEATURES order."""
    return np.array(
        [[float(f.get(name, 0.0)) for name in RULE_FEATURES] for f in features], dtype=np.float32
    ).reshape(len(features), len(RULE_FEATURES))


def objection_inputs(
    vectors: np.ndarray, context_vectors: np.ndarray, features: Sequence[Mapping[str, float]]
) -> np.ndarray:
    """Segment vector, rep-turn vector and rule features side by side."""
    return np.hstack([vectors, context_vectors, rule_matrix(features)])


def category_inputs(vectors: np.ndarray, evidence: np.ndarray) -> np.ndarray:
    """Segment vector beside per-category evidence (similarity, rule cue, topic word)."""
    return np.hstack([vectors, evidence])


def save_model(model: SegmentModel, path: Path = MODEL_PATH) -> None:
    """Plain arrays and a JSON header: loadable without pickle."""
    meta = {
        "platt": list(model.platt),
        "threshold": model.threshold,
        "feed_threshold": model.feed_threshold,
        "categories": list(model.categories),
        "prototype_weight": model.prototype_weight,
        "tuned_weight": model.tuned_weight,
        "tuned_category_weight": model.tuned_category_weight,
        "rule_features": list(RULE_FEATURES),
    }
    lexical = {}
    if model.lexical:
        lexical = {
            "lexical_vocabulary": np.array(model.lexical.vocabulary, dtype=str),
            "lexical_idf": model.lexical.idf.astype(np.float32),
            "lexical_objection_coef": model.lexical.objection.coef.astype(np.float32),
            "lexical_objection_bias": model.lexical.objection.bias.astype(np.float32),
            "lexical_category_coef": model.lexical.category.coef.astype(np.float32),
            "lexical_category_bias": model.lexical.category.bias.astype(np.float32),
        }
    np.savez_compressed(
        path,
        meta=np.array(json.dumps(meta)),
        objection_coef=model.objection.coef.astype(np.float32),
        objection_bias=model.objection.bias.astype(np.float32),
        category_coef=model.category.coef.astype(np.float32),
        category_bias=model.category.bias.astype(np.float32),
        **lexical,
    )


def load_model(path: Path = MODEL_PATH) -> SegmentModel:
    """The stored model; raises FileNotFoundError naming `make train-extractor` when absent."""
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `make train-extractor`")
    with np.load(path, allow_pickle=False) as raw:
        meta = json.loads(str(raw["meta"]))
        if tuple(meta["rule_features"]) != RULE_FEATURES:
            raise ValueError(f"{path} was trained on other features: run `make train-extractor`")
        return SegmentModel(
            objection=Linear(raw["objection_coef"], raw["objection_bias"]),
            platt=(float(meta["platt"][0]), float(meta["platt"][1])),
            threshold=float(meta["threshold"]),
            feed_threshold=float(meta["feed_threshold"]),
            categories=tuple(meta["categories"]),
            category=Linear(raw["category_coef"], raw["category_bias"]),
            prototype_weight=float(meta.get("prototype_weight", 0.0)),
            lexical=_load_lexical(raw),
            tuned_weight=float(meta.get("tuned_weight", 0.0)),
            tuned_category_weight=float(meta.get("tuned_category_weight", 0.0)),
        )


def _load_lexical(raw) -> Lexical | None:
    if "lexical_vocabulary" not in raw:
        return None
    return Lexical(
        vocabulary=tuple(str(term) for term in raw["lexical_vocabulary"]),
        idf=raw["lexical_idf"].astype(np.float64),
        objection=Linear(raw["lexical_objection_coef"], raw["lexical_objection_bias"]),
        category=Linear(raw["lexical_category_coef"], raw["lexical_category_bias"]),
    )


@cache
def default_model() -> SegmentModel:
    """The shipped model, read once per process."""
    return load_model()


def feed_threshold() -> float:
    """The confidence an objection needs to enter the feed (chosen on dev, stored with it)."""
    return default_model().feed_threshold
