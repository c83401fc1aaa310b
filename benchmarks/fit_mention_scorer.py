"""Fit the mention scorer's few weights on the labelled dev set and store them.

    python benchmarks/fit_mention_scorer.py            # fit on all items, write the data file
    python benchmarks/fit_mention_scorer.py --dry-run  # print cross-validated figures only

Each candidate segment of a dev item is one training row: positive when the item is an
objection and the segment overlaps the gold quote, negative otherwise. The features are the
pipeline's own (rule cues, polarity, prototype similarities); the model is an L2-regularised
logistic regression, so its output is a calibrated probability. Five-fold cross-validation by item
prints the utterance-level F1 the fitted weights should reach on unseen items of the same kind.
The decision threshold is the one with the best cross-validated F1 on a coarse grid.

The category weights (bonus for a rule cue, for a topic word, and the weight of the utterance's
other segments) are chosen on a small grid for category accuracy on the gold-quote segments.
Only "objection" and "category" are refitted; the hand-set "pain" model is kept as it is.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np
from extraction_eval import DEV_PATH, in_split, load_items, prf
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from pipelines.embed import SentenceEmbedder
from pipelines.extract import Extractor, ScoredSegment
from pipelines.nlp_models import load_sentence_model, load_spacy
from pipelines.scoring import SCORER_PATH, CategoryWeights

FEATURES = (
    "category_cue",
    "generic_cue",
    "defused_cue",
    "hedged_cue",
    "neutral_cue",
    "topic_cue",
    "pain_cue",
    "question",
    "sim_category",
    "sim_neutral",
    "sim_pain",
    "context_neutral",
    "context_objection",
    "negation",
)
THRESHOLDS = (0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
RULE_BONUSES = (0.0, 0.03, 0.06, 0.1, 0.15, 0.2, 0.3)
TOPIC_BONUSES = (0.0, 0.02, 0.04, 0.07, 0.1)
CONTEXT_WEIGHTS = (0.0, 0.15, 0.3, 0.5)
REGULARISATION = 10.0  # sklearn's C: features are few and the items many, so mild shrinkage


def segment_label(text: str, quote: str | None, segment: ScoredSegment) -> int:
    """1 when the segment overlaps the gold quote's characters."""
    if not quote or quote not in text:
        return 0
    start = text.index(quote)
    end = start + len(quote)
    return int(segment.segment.start_char < end and start < segment.segment.end_char)


def rows(items, scored) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feature matrix, labels and item index (for grouped folds) over all segments."""
    x, y, groups = [], [], []
    for index, (item, segments) in enumerate(zip(items, scored, strict=True)):
        for segment in segments:
            x.append([segment.features[name] for name in FEATURES])
            y.append(segment_label(item.text, item.quote if item.objection else None, segment))
            groups.append(index)
    return np.array(x), np.array(y), np.array(groups)


def utterance_f1(items, groups: np.ndarray, probabilities: np.ndarray, threshold: float) -> float:
    flagged = {int(g) for g, p in zip(groups, probabilities, strict=True) if p >= threshold}
    tp = sum(1 for i, item in enumerate(items) if item.objection and i in flagged)
    fp = sum(1 for i, item in enumerate(items) if not item.objection and i in flagged)
    fn = sum(1 for i, item in enumerate(items) if item.objection and i not in flagged)
    return prf(tp, fp, fn)[2]


def cross_validated(items, x, y, groups) -> np.ndarray:
    """Out-of-fold probabilities for every segment."""
    out = np.zeros(len(y))
    for train, test in GroupKFold(n_splits=5).split(x, y, groups):
        model = LogisticRegression(C=REGULARISATION, max_iter=1000).fit(x[train], y[train])
        out[test] = model.predict_proba(x[test])[:, 1]
    return out


def fit_category_weights(items, scored, names) -> tuple[CategoryWeights, float]:
    """The grid point with the best category accuracy on segments inside gold quotes."""
    gold = [
        (names.index(item.category), segment)
        for item, segments in zip(items, scored, strict=True)
        if item.objection and item.category in names
        for segment in segments
        if segment_label(item.text, item.quote, segment)
    ]
    best, best_accuracy = CategoryWeights(0.0, 0.0, 0.0), -1.0
    for rule, topic, context in itertools.product(RULE_BONUSES, TOPIC_BONUSES, CONTEXT_WEIGHTS):
        weights = CategoryWeights(rule, topic, context)
        hits = sum(
            int(np.argmax(weights.scores(s.evidence, s.context))) == label for label, s in gold
        )
        if hits / len(gold) > best_accuracy:
            best, best_accuracy = weights, hits / len(gold)
    return best, best_accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, default=DEV_PATH)
    parser.add_argument("--split", choices=("all", "tune", "holdout"), default="all")
    parser.add_argument("--dry-run", action="store_true", help="do not write the data file")
    args = parser.parse_args()

    items = [item for item in load_items(args.input) if in_split(item, args.split)]
    extractor = Extractor(load_spacy(), SentenceEmbedder(load_sentence_model()))
    scored = extractor.score([item.text for item in items])
    x, y, groups = rows(items, scored)
    print(f"{len(items)} items, {len(y)} segments, {int(y.sum())} positive")

    out_of_fold = cross_validated(items, x, y, groups)
    f1s = {t: utterance_f1(items, groups, out_of_fold, t) for t in THRESHOLDS}
    for threshold, f1 in f1s.items():
        print(f"cross-validated utterance F1 at threshold {threshold}: {f1:.3f}")
    threshold = max(f1s, key=lambda t: f1s[t])

    model = LogisticRegression(C=REGULARISATION, max_iter=1000).fit(x, y)
    weights = {name: round(float(w), 3) for name, w in zip(FEATURES, model.coef_[0], strict=True)}
    print("bias", round(float(model.intercept_[0]), 3), "weights", weights)
    category, accuracy = fit_category_weights(items, scored, extractor.names)
    print(f"category weights {category} (accuracy on gold-quote segments {accuracy:.3f})")
    if args.dry_run:
        return
    stored = json.loads(SCORER_PATH.read_text(encoding="utf-8"))
    stored["objection"] = {
        "bias": round(float(model.intercept_[0]), 3),
        "weights": weights,
        "threshold": threshold,
    }
    stored["category"] = {
        "rule_bonus": category.rule_bonus,
        "topic_bonus": category.topic_bonus,
        "context_weight": category.context_weight,
    }
    SCORER_PATH.write_text(json.dumps(stored, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {SCORER_PATH}")


if __name__ == "__main__":
    main()
