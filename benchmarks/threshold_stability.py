"""How steady the feed threshold is, chosen on dev (the shipped rule) or on train out of fold.

    python -m benchmarks.threshold_stability [--resamples 200]

Fits the shipped objection recipe once (train, regularisation chosen on dev; training/fit.py),
scores train out of fold (training/crossfit.py: five folds of whole files), then draws the
labelled files with replacement and fits Platt scaling and the feed threshold again on each
draw, as training/decisions.precision_threshold does: under the shipped rule from dev's files,
under the cross-fit rule from train's (and from train's and dev's together). Prints per rule the
threshold it chooses on all files, what that gives on dev, and over the draws the threshold's
spread and dev's recall and precision at each draw's choice.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

from pipelines.extraction.step5_model import sigmoid
from pipelines.extraction.training.crossfit import out_of_fold_logits
from pipelines.extraction.training.decisions import GRID, precision_threshold
from pipelines.extraction.training.fit import (
    FEED_PRECISION,
    fit_lexical,
    fit_objection,
    fit_platt,
    objection_recipe,
    without_context,
)

MIN_SUPPORT = 10  # precision_threshold's default


@dataclass(frozen=True)
class Rows:
    """What the threshold rule reads of segments: logit, label, turn, the turn's label, file."""

    logit: np.ndarray
    label: np.ndarray
    turn: np.ndarray
    turn_label: np.ndarray
    file: np.ndarray

    def take(self, picked: np.ndarray) -> Rows:
        return Rows(*(getattr(self, f)[picked] for f in ("logit", "label", "turn", "turn_label",
                                                         "file")))

    def plus(self, other: Rows) -> Rows:
        return Rows(*(np.concatenate([getattr(self, f), getattr(other, f)])
                      for f in ("logit", "label", "turn", "turn_label", "file")))


def curves(rows: Rows, platt: tuple[float, float]) -> tuple[np.ndarray, ...]:
    """Per GRID threshold: turn tp, turn fp, turn fn and mention precision."""
    confidence = sigmoid(platt[0] * rows.logit + platt[1])
    turns, index = np.unique(rows.turn, return_inverse=True)
    best = np.full(len(turns), -1.0)
    np.maximum.at(best, index, confidence)
    positive = np.zeros(len(turns), dtype=bool)
    positive[index] = rows.turn_label.astype(bool)
    said = best[None, :] >= GRID[:, None]
    kept = confidence[None, :] >= GRID[:, None]
    n_kept = kept.sum(axis=1)
    mention = np.where(n_kept > 0, (kept & rows.label.astype(bool)).sum(axis=1)
                       / np.maximum(n_kept, 1), 1.0)
    return (said & positive).sum(1), (said & ~positive).sum(1), (~said & positive).sum(1), mention


def feed_rule(rows: Rows) -> tuple[tuple[float, float], float]:
    """Platt scaling and the feed threshold of precision_threshold, on these rows."""
    platt = fit_platt(rows.logit, rows.label)
    tp, fp, _, mention = curves(rows, platt)
    turn_p = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1), 1.0)
    scored = []
    for k, t in enumerate(GRID):
        if tp[k] + fp[k] < MIN_SUPPORT:
            break
        worst = min(turn_p[k], mention[k])
        if worst >= FEED_PRECISION:
            return platt, float(t)
        scored.append((worst, float(t)))
    return platt, (max(scored)[1] if scored else float(GRID[-1]))


def at(rows: Rows, platt: tuple[float, float], threshold: float) -> tuple[float, float, float]:
    """(turn precision, turn recall, mention precision) at one threshold."""
    tp, fp, fn, mention = curves(rows, platt)
    k = int(np.argmin(np.abs(GRID - threshold)))
    return tp[k] / max(tp[k] + fp[k], 1), tp[k] / max(tp[k] + fn[k], 1), float(mention[k])


def draw(rows: Rows, rng: np.random.Generator) -> Rows:
    """The rows of as many files as there are, drawn with replacement (turns kept apart)."""
    names = np.unique(rows.file)
    parts = []
    for k, name in enumerate(rng.choice(names, size=len(names))):
        part = rows.take(np.flatnonzero(rows.file == name))
        parts.append(Rows(part.logit, part.label, part.turn + k * 10**7, part.turn_label,
                          part.file))
    out = parts[0]
    for part in parts[1:]:
        out = out.plus(part)
    return out


def report(name: str, rows: Rows, dev: Rows, resamples: int, rng: np.random.Generator) -> None:
    platt, feed = feed_rule(rows)
    p, r, m = at(dev, platt, feed)
    print(f"{name:<22}{feed:>6.2f} {p:>7.3f}{r:>7.3f}{m:>7.3f}", end="")
    thresholds, recalls, under = [], [], 0
    for _ in range(resamples):
        platt, feed = feed_rule(draw(rows, rng))
        p, r, m = at(dev, platt, feed)
        thresholds.append(feed)
        recalls.append(r)
        under += min(p, m) < FEED_PRECISION
    t = np.array(thresholds)
    print(f" {t.mean():>6.3f}{t.std():>6.3f}  {np.percentile(t, 5):.2f}-{np.percentile(t, 95):.2f}"
          f"  {np.mean(recalls):>6.3f}{np.std(recalls):>6.3f}{under / resamples:>7.0%}")


def main() -> None:
    from pipelines.extraction.training.data import all_segments, by_split

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resamples", type=int, default=200)
    args = parser.parse_args()
    turns, segments = all_segments()
    files = np.array([t.file for t in turns])
    splits = by_split(turns, segments)
    train, dev = without_context(splits["train"]), without_context(splits["dev"])
    objection, c = fit_objection(train, dev)
    lexical, lexical_c = fit_lexical(train, dev, objection)
    out_of_fold = out_of_fold_logits(train, files[train.turn], objection_recipe(c, lexical_c))
    dev_logits = objection.logits(dev.objection_x)[:, 0] + lexical.objection_logits(dev.texts)

    def rows(segs, logits) -> Rows:
        return Rows(logits, segs.label, segs.turn, segs.turn_label, files[segs.turn])

    train_rows, dev_rows = rows(train, out_of_fold), rows(dev, dev_logits)
    platt = fit_platt(dev_logits, dev.label)
    assert feed_rule(dev_rows)[1] == precision_threshold(  # the vectorised rule is the same
        dev, sigmoid(platt[0] * dev_logits + platt[1]), FEED_PRECISION
    )
    rng = np.random.default_rng(0)
    print(f"{len(np.unique(train_rows.file))} train files, {len(np.unique(dev_rows.file))} dev "
          f"files; {args.resamples} draws of files with replacement; dev at each rule's choice")
    print(f"{'rule (chosen on)':<22}{'feed':>6} {'dev P':>7}{'R':>7}{'mentP':>7}"
          f" {'mean':>6}{'sd':>6}  {'5-95%':<9}  {'dev R':>6}{'sd':>6}{'P<.85':>7}")
    report("dev (shipped)", dev_rows, dev_rows, args.resamples, rng)
    report("train out of fold", train_rows, dev_rows, args.resamples, rng)
    report("train oof + dev", train_rows.plus(dev_rows), dev_rows, args.resamples, rng)


if __name__ == "__main__":
    main()
