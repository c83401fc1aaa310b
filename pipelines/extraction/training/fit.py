"""Fit the segment model on train, choose and calibrate on dev, store it (`make train-extractor`).

    python -m pipelines.extraction.training.fit

Every choice (regularisation, Platt scaling, both thresholds) is made on the dev split; the
test split is not read here beyond being left out.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score

from pipelines.extraction.step5_model import (
    MODEL_PATH,
    NGRAMS,
    RULE_FEATURES,
    Lexical,
    Linear,
    SegmentModel,
    save_model,
)
from pipelines.extraction.training.crossfit import Recipe
from pipelines.extraction.training.dataset import CATEGORIES, Segments
from pipelines.extraction.training.decisions import (
    best_f1_threshold,
    precision_threshold,
)

C_GRID = (0.001, 0.003, 0.01, 0.03, 0.1)
# TF-IDF rows are sparse and unscaled: their useful regularisation is weaker.
LEXICAL_C_GRID = (1.0, 3.0, 10.0)
MIN_DOCUMENTS = 2  # a word (pair) seen in one training segment only is noise
FEED_PRECISION = 0.85
SEED = 0


def fit_scaled(x: np.ndarray, y: np.ndarray, c: float) -> Linear:
    """Logistic regression (softmax when y has more than two values) on standardised x."""
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    model = LogisticRegression(C=c, max_iter=2000, random_state=SEED)
    model.fit((x - mean) / scale, y)
    coef = model.coef_ / scale
    return Linear(coef, model.intercept_ - coef @ mean)


def fit_objection(train: Segments, dev: Segments) -> tuple[Linear, float]:
    """The C with the best dev average precision, and its model."""
    best: tuple[float, Linear, float] | None = None
    for c in C_GRID:
        model = fit_scaled(train.objection_x, train.label, c)
        ap = average_precision_score(dev.label, model.logits(dev.objection_x)[:, 0])
        print(f"  objection C={c:<5} dev AP {ap:.3f}")
        if best is None or ap > best[0]:
            best = (ap, model, c)
    assert best is not None
    return best[1], best[2]


def fit_platt(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Platt scaling on dev logits: p = sigmoid(a * z + b)."""
    model = LogisticRegression(C=100.0, max_iter=1000)
    model.fit(logits.reshape(-1, 1), labels)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def fit_category(train: Segments, dev: Segments) -> Linear:
    """Softmax on positive segments; C by dev accuracy on positive segments."""
    pos_train, pos_dev = train.rows(train.label == 1), dev.rows(dev.label == 1)
    best: tuple[float, Linear] | None = None
    for c in C_GRID:
        model = fit_scaled(pos_train.category_x, pos_train.category, c)
        classes = np.unique(pos_train.category)
        full = _all_classes(model, classes)
        accuracy = float(np.mean(full.logits(pos_dev.category_x).argmax(axis=1) == pos_dev.category))
        print(f"  category C={c:<5} dev accuracy {accuracy:.3f}")
        if best is None or accuracy > best[0]:
            best = (accuracy, full)
    assert best is not None
    return best[1]


def _all_classes(model: Linear, classes: np.ndarray) -> Linear:
    """Rows for every category; a category without training rows never wins."""
    coef = np.zeros((len(CATEGORIES), model.coef.shape[1]))
    bias = np.full(len(CATEGORIES), -1e3)
    coef[classes], bias[classes] = model.coef, model.bias
    return Linear(coef, bias)


BLEND_GRID = (0.0, 2.0, 5.0, 10.0, 20.0, 40.0)


def prototype_weight(
    model: SegmentModel, dev: Segments, tuned: np.ndarray | None = None
) -> float:
    """The blend weight with the best category accuracy on dev's positive segments."""
    positives = dev.rows(dev.label == 1)
    tuned_positive = None if tuned is None else tuned[dev.label == 1]

    def accuracy(weight: float) -> float:
        scores = replace(model, prototype_weight=weight).category_scores(
            positives.category_x, positives.texts, tuned_positive
        )
        return float(np.mean(scores.argmax(1) == positives.category))

    for weight in BLEND_GRID:
        print(f"  prototype weight {weight:<5} dev category accuracy {accuracy(weight):.3f}")
    return max(BLEND_GRID, key=accuracy)


def without_context(segs: Segments) -> Segments:
    """The rep-turn vector columns zeroed: on dev it added nothing over the segment and rules
    (average precision 0.615 both) while making answers to "how do you do this today?" read as
    information, so the shipped model ignores it (its weights stay 0)."""
    x = segs.objection_x.copy()
    dim = (x.shape[1] - len(RULE_FEATURES)) // 2
    x[:, dim : 2 * dim] = 0.0
    return replace(segs, objection_x=x)


def words_vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(ngram_range=NGRAMS, sublinear_tf=True, min_df=MIN_DOCUMENTS)


def fit_lexical(train: Segments, dev: Segments, objection: Linear) -> tuple[Lexical, float]:
    """TF-IDF logistic models on the segment's words, C chosen on dev: for the objection model,
    by the average precision of its logit added to the embedding model's; for the category
    model, by its own accuracy on dev's positive segments. Returns the objection model's C."""
    vectorizer = words_vectorizer()
    words_train = vectorizer.fit_transform(train.texts)
    words_dev = vectorizer.transform(dev.texts)
    embedding_dev = objection.logits(dev.objection_x)[:, 0]
    best_objection: tuple[float, Linear, float] | None = None
    for c in LEXICAL_C_GRID:
        model = LogisticRegression(C=c, max_iter=3000, random_state=SEED)
        model.fit(words_train, train.label)
        ap = average_precision_score(dev.label, embedding_dev + model.decision_function(words_dev))
        print(f"  lexical objection C={c:<5} dev AP (summed) {ap:.3f}")
        if best_objection is None or ap > best_objection[0]:
            best_objection = (ap, Linear(model.coef_, model.intercept_), c)
    assert best_objection is not None
    positives = train.label == 1
    best_category: tuple[float, Linear] | None = None
    for c in LEXICAL_C_GRID:
        model = LogisticRegression(C=c, max_iter=3000, random_state=SEED)
        model.fit(words_train[positives], train.category[positives])
        full = _all_classes(Linear(model.coef_, model.intercept_), model.classes_)
        lexical = Lexical(tuple(vectorizer.get_feature_names_out()), vectorizer.idf_,
                          best_objection[1], full)
        accuracy = _category_accuracy(lexical, dev)
        print(f"  lexical category C={c:<5} dev accuracy (alone) {accuracy:.3f}")
        if best_category is None or accuracy > best_category[0]:
            best_category = (accuracy, full)
    assert best_category is not None
    return replace(lexical, category=best_category[1]), best_objection[2]


def _category_accuracy(lexical: Lexical, dev: Segments) -> float:
    positives = dev.rows(dev.label == 1)
    chosen = lexical.category_logits(positives.texts).argmax(axis=1)
    return float(np.mean(chosen == positives.category))


TUNED_GRID = (0.0, 0.25, 0.5, 1.0, 2.0)


def tuned_weights(
    model: SegmentModel, dev: Segments, tuned: tuple[np.ndarray, np.ndarray]
) -> SegmentModel:
    """The fine-tuned transformer's two weights: the objection one by dev average precision of
    the summed logits, the category one by dev accuracy on positive segments."""
    base = model.objection_logits(dev.objection_x, dev.texts)
    ap = {w: average_precision_score(dev.label, base + w * tuned[0]) for w in TUNED_GRID}
    positives = dev.rows(dev.label == 1)
    tuned_positive = tuned[1][dev.label == 1]

    def accuracy(weight: float) -> float:
        scores = replace(model, tuned_category_weight=weight).category_scores(
            positives.category_x, positives.texts, tuned_positive
        )
        return float(np.mean(scores.argmax(1) == positives.category))

    for w in TUNED_GRID:
        print(f"  tuned weight {w:<5} dev AP (summed) {ap[w]:.3f}  "
              f"dev category accuracy {accuracy(w):.3f}")
    return replace(model, tuned_weight=max(TUNED_GRID, key=ap.__getitem__),
                   tuned_category_weight=max(TUNED_GRID, key=accuracy))


def objection_recipe(c: float, lexical_c: float | None) -> Recipe:
    """fit_model's objection logit (embedding, plus lexical when lexical_c is given) with its
    regularisation fixed: what each fold of the cross-fit refits."""

    def fit(part: Segments) -> Callable[[Segments], np.ndarray]:
        embedding = fit_scaled(part.objection_x, part.label, c)
        words = None
        if lexical_c is not None:
            vectorizer = words_vectorizer()
            words = LogisticRegression(C=lexical_c, max_iter=3000, random_state=SEED)
            words.fit(vectorizer.fit_transform(part.texts), part.label)

        def score(segs: Segments) -> np.ndarray:
            logits = embedding.logits(segs.objection_x)[:, 0]
            if words is None:
                return logits
            return logits + words.decision_function(vectorizer.transform(segs.texts))

        return score

    return fit


def fit_model(
    train: Segments,
    dev: Segments,
    *,
    lexical: bool = True,
    tuned: tuple[np.ndarray, np.ndarray] | None = None,
) -> SegmentModel:
    """The full segment model: objection (+ lexical, + fine-tuned transformer) + Platt +
    thresholds + category, all chosen on dev. lexical=False gives the embedding-only model (a
    candidate); tuned holds the fine-tuned transformer's (objection, category) logits on dev's
    segments, None to leave it out."""
    train, dev = without_context(train), without_context(dev)
    objection, _ = fit_objection(train, dev)
    model = SegmentModel(  # calibration and thresholds are fitted below, on this model's logits
        objection=objection,
        platt=(1.0, 0.0),
        threshold=0.5,
        feed_threshold=0.5,
        categories=CATEGORIES,
        category=fit_category(train, dev),
        lexical=fit_lexical(train, dev, objection)[0] if lexical else None,
    )
    if tuned is not None:
        model = tuned_weights(model, dev, tuned)
    dev_tuned = None if tuned is None else tuned[0]
    platt = fit_platt(model.objection_logits(dev.objection_x, dev.texts, dev_tuned), dev.label)
    model = replace(model, platt=platt)
    confidence = model.confidence(dev.objection_x, dev.texts, dev_tuned)
    feed = precision_threshold(dev, confidence, FEED_PRECISION)
    threshold = min(best_f1_threshold(dev, confidence), feed)
    print(f"  thresholds: mention {threshold:.3f}  feed {feed:.3f}")
    model = replace(model, threshold=threshold, feed_threshold=feed)
    dev_category = None if tuned is None else tuned[1]
    return replace(model, prototype_weight=prototype_weight(model, dev, dev_category))


def dev_tuned_logits(turns, dev: Segments) -> tuple[np.ndarray, np.ndarray]:
    """The stored fine-tuned transformer's logits on dev's segments."""
    from pipelines.extraction.step5_transformer import TUNED_PATH, TunedScorer

    if not TUNED_PATH.exists():
        raise FileNotFoundError(f"{TUNED_PATH} is missing: run `make train-tuned`")
    contexts = [turns[int(k)].context for k in dev.turn]
    return TunedScorer().logits(list(dev.texts), contexts)


def main() -> None:
    from pipelines.extraction.training.data import all_segments, by_split

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--tuned", action="store_true",
                        help="add the fine-tuned transformer (`make train-tuned` first); not "
                             "shipped: 3.6x the embedder's CPU for a small dev gain")
    args = parser.parse_args()
    turns, segments = all_segments()
    splits = by_split(turns, segments)
    tuned = dev_tuned_logits(turns, splits["dev"]) if args.tuned else None
    model = fit_model(splits["train"], splits["dev"], tuned=tuned)
    save_model(model, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
