"""The candidate detectors compared on dev and reported on test (benchmarks/extraction_eval.py).

Each candidate gives every segment a confidence and a category index; thresholds are chosen on
dev only. The shipped model is `embedding+lexical` (training/fit.py).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipelines.extraction.step5_model import RULE_FEATURES, SegmentModel
from pipelines.extraction.training.dataset import CATEGORIES, Segments
from pipelines.extraction.training.fit import fit_model, fit_platt, fit_scaled

TEXTCAT_CONFIG = Path(__file__).with_name("textcat.cfg")
NONE_LABEL = "none"


@dataclass(frozen=True)
class Predictions:
    """Per segment: a confidence that it states an objection, and a category index."""

    confidence: np.ndarray
    category: np.ndarray


Predictor = Callable[[Segments], Predictions]

# What sales tools' keyword trackers look like: a phrase list per category, first match by the
# labelling guide's precedence wins.
KEYWORDS: dict[str, tuple[str, ...]] = {
    "contract": ("contract", "terms", "renewal", "auto-renew", "auto renew", "cancel",
                 "termination", "liability", "lock in", "locked in", "multi-year", "commitment"),
    "authority": ("my boss", "approve", "approval", "sign off", "sign-off", "decision maker",
                  "ceo", "cfo", "the board", "procurement", "run it by", "run this by"),
    "competitor": ("competitor", "already use", "already have", "already using", "currently use",
                   "salesforce", "hubspot", "gong", "in-house", "in house", "spreadsheet"),
    "price": ("price", "pricing", "expensive", "cost", "budget", "afford", "too much",
              "discount", "cheaper", "pricey"),
    "timing": ("not right now", "next quarter", "next year", "bad time", "timing", "later",
               "too busy", "not now"),
    "implementation": ("implementation", "integration", "integrate", "migration", "migrate",
                       "onboarding", "setup", "set up", "resources", "training"),
    "feature": ("missing", "doesn't have", "does not have", "doesn't support", "lacks",
                "no support for", "feature"),
    "trust": ("security", "secure", "risk", "worried", "concern", "trust", "compliance",
              "soc 2", "gdpr", "privacy"),
    "need": ("don't need", "do not need", "not a priority", "no need", "works fine",
             "happy with what we have"),
}
_KEYWORD_RES = {
    name: re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)
    for name, words in KEYWORDS.items()
}


def keyword_category(text: str) -> str | None:
    """The first category (by precedence) whose tracker phrase occurs in text."""
    return next((name for name, pattern in _KEYWORD_RES.items() if pattern.search(text)), None)


def keyword_tracker(segs: Segments) -> Predictions:
    """Confidence 1 for a segment with any tracker phrase, category by precedence."""
    found = [keyword_category(text) for text in segs.texts]
    return Predictions(
        np.array([1.0 if name else 0.0 for name in found]),
        np.array([CATEGORIES.index(name) if name else -1 for name in found]),
    )


def legacy(segs: Segments) -> Predictions:
    """The shipped logistic model of issue 4 (14 rule and similarity features)."""
    return Predictions(segs.legacy_p, segs.legacy_category)


def segment_model_predictor(model: SegmentModel) -> Predictor:
    """Predictions of a fitted segment model on cached segment arrays."""

    def predict(segs: Segments) -> Predictions:
        confidence = model.confidence(segs.objection_x, segs.texts)
        scores = model.category_scores(segs.category_x, segs.texts)
        return Predictions(confidence, scores.argmax(1))

    return predict


def fit_embedding_lr(train: Segments, dev: Segments) -> Predictor:
    """The model shipped before issue 10's source split: segment vector + rule features."""
    return segment_model_predictor(fit_model(train, dev, lexical=False))


def fit_embedding_lexical_lr(train: Segments, dev: Segments) -> Predictor:
    """The shipped candidate: embedding-lr plus a TF-IDF model of the segment's words."""
    return segment_model_predictor(fit_model(train, dev))


def fit_embedding_mlp(train: Segments, dev: Segments) -> Predictor:
    """A small MLP (one hidden layer of 64) instead of the logistic objection model, on the
    same inputs (rep-turn vector included); Platt-scaled on dev, embedding-lr's categories."""
    from sklearn.neural_network import MLPClassifier

    mean, scale = train.objection_x.mean(axis=0), train.objection_x.std(axis=0) + 1e-6
    mlp = MLPClassifier((64,), alpha=3.0, max_iter=200, random_state=0)
    mlp.fit((train.objection_x - mean) / scale, train.label)
    categories = fit_model(train, dev, lexical=False)

    def logits(segs: Segments) -> np.ndarray:
        p = mlp.predict_proba((segs.objection_x - mean) / scale)[:, 1]
        return np.log(p + 1e-9) - np.log(1 - p + 1e-9)

    a, b = fit_platt(logits(dev), dev.label)

    def predict(segs: Segments) -> Predictions:
        scores = categories.category_scores(segs.category_x, segs.texts)
        return Predictions(1.0 / (1.0 + np.exp(-(a * logits(segs) + b))), scores.argmax(1))

    return predict


def fit_minilm_tuned(train: Segments, dev: Segments) -> Predictor:
    """MiniLM with layers 5-6 and a head fine-tuned on (segment, rep turn) pairs
    (training/finetune.py, its logits stored by that run); Platt-scaled on dev."""
    from pipelines.extraction.training.finetune import stored_logits

    a, b = fit_platt(stored_logits(dev.texts)[0], dev.label)

    def predict(segs: Segments) -> Predictions:
        objection, category = stored_logits(segs.texts)
        return Predictions(1.0 / (1.0 + np.exp(-(a * objection + b))), category.argmax(1))

    return predict


def fit_lexical_tuned(train: Segments, dev: Segments) -> Predictor:
    """embedding+lexical with the fine-tuned MiniLM's logits added, weights chosen on dev
    (training/fit.py: what `make train-extractor` ships when the transformer is trained)."""
    from pipelines.extraction.training.finetune import stored_logits

    model = fit_model(train, dev, tuned=stored_logits(dev.texts))

    def predict(segs: Segments) -> Predictions:
        tuned, tuned_category = stored_logits(segs.texts)
        confidence = model.confidence(segs.objection_x, segs.texts, tuned)
        scores = model.category_scores(segs.category_x, segs.texts, tuned_category)
        return Predictions(confidence, scores.argmax(1))

    return predict


def fit_rules_lr(train: Segments, dev: Segments) -> Predictor:
    """Ablation: the same logistic regression on the rule features alone, refitted."""
    rules = slice(train.objection_x.shape[1] - len(RULE_FEATURES), None)
    model = fit_scaled(train.objection_x[:, rules], train.label, 1.0)

    def predict(segs: Segments) -> Predictions:
        z = model.logits(segs.objection_x[:, rules])[:, 0]
        return Predictions(1.0 / (1.0 + np.exp(-z)), segs.legacy_category)

    return predict


def _docbin(segs: Segments, path: Path) -> None:
    import spacy
    from spacy.tokens import DocBin

    nlp = spacy.blank("en")
    labels = [NONE_LABEL, *CATEGORIES]
    docs = DocBin()
    for text, category in zip(segs.texts, segs.category, strict=True):
        doc = nlp.make_doc(text)
        gold = CATEGORIES[category] if category >= 0 else NONE_LABEL
        doc.cats = {label: float(label == gold) for label in labels}
        docs.add(doc)
    docs.to_disk(path)


def fit_textcat(train: Segments, dev: Segments) -> Predictor:
    """spaCy textcat (bag of words + bigrams) trained the spaCy way: `spacy train`."""
    import spacy

    work = Path(tempfile.mkdtemp(prefix="vb-textcat-"))
    _docbin(train, work / "train.spacy")
    _docbin(dev, work / "dev.spacy")
    subprocess.run(
        [sys.executable, "-m", "spacy", "train", str(TEXTCAT_CONFIG), "--output", str(work),
         "--paths.train", str(work / "train.spacy"), "--paths.dev", str(work / "dev.spacy")],
        check=True, capture_output=True,
    )
    nlp = spacy.load(work / "model-best")

    def predict(segs: Segments) -> Predictions:
        cats = [doc.cats for doc in nlp.pipe(segs.texts, batch_size=256)]
        confidence = np.array([1.0 - c[NONE_LABEL] for c in cats])
        category = np.array([int(np.argmax([c[name] for name in CATEGORIES])) for c in cats])
        return Predictions(confidence, category)

    return predict


CANDIDATES: dict[str, Callable[[Segments, Segments], Predictor]] = {
    "keyword-tracker": lambda train, dev: keyword_tracker,
    "legacy-logistic": lambda train, dev: legacy,
    "rules-lr-refit": fit_rules_lr,
    "spacy-textcat": fit_textcat,
    "embedding-lr": fit_embedding_lr,
    "embedding-mlp": fit_embedding_mlp,
    "embedding+lexical": fit_embedding_lexical_lr,
    "minilm-tuned": fit_minilm_tuned,
    "emb+lex+tuned": fit_lexical_tuned,
}
