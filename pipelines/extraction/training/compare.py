"""Fit every candidate on train, set its thresholds on dev, measure it on dev and test.

    python -m pipelines.extraction.training.compare
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.extraction.training.candidates import CANDIDATES, Predictions
from pipelines.extraction.training.dataset import Segments
from pipelines.extraction.training.decisions import (
    best_f1_threshold,
    f1,
    mention_precision,
    precision,
    precision_threshold,
    turn_counts,
)

FEED_PRECISION = 0.85


@dataclass(frozen=True)
class Figures:
    """Turn-level P/R/F1 at one threshold, category accuracy on true positives, mention P."""

    precision: float
    recall: float
    f1: float
    category_accuracy: float
    mention_precision: float


def category_accuracy(segs: Segments, preds: Predictions, threshold: float) -> float:
    """On turns predicted positive that hold an objection: the best segment's category is the
    category of the gold quote it overlaps, or of the turn's first gold quote."""
    best: dict[int, int] = {}
    gold: dict[int, int] = {}
    for row in range(len(segs.turn)):
        turn = int(segs.turn[row])
        if segs.category[row] >= 0 and turn not in gold:
            gold[turn] = int(segs.category[row])
        if preds.confidence[row] >= threshold and (
            turn not in best or preds.confidence[row] > preds.confidence[best[turn]]
        ):
            best[turn] = row
    hits = [
        int(segs.category[row]) if segs.category[row] >= 0 else gold.get(turn, -1)
        for turn, row in best.items()
        if segs.turn_label[row]
    ]
    chosen = [int(preds.category[row]) for turn, row in best.items() if segs.turn_label[row]]
    return float(np.mean(np.array(hits) == np.array(chosen))) if hits else 0.0


def figures(segs: Segments, preds: Predictions, threshold: float) -> Figures:
    tp, fp, fn = turn_counts(segs, preds.confidence, threshold)
    return Figures(
        precision(tp, fp),
        tp / (tp + fn) if tp + fn else 0.0,
        f1(tp, fp, fn),
        category_accuracy(segs, preds, threshold),
        mention_precision(segs, preds.confidence, threshold),
    )


def compare(
    splits: dict[str, Segments], names: list[str] | None = None
) -> list[tuple[str, str, float, str, Figures]]:
    """(candidate, operating point, threshold, split, figures) rows (of the named candidates,
    all when None)."""
    rows = []
    for name, fit in CANDIDATES.items():
        if names and name not in names:
            continue
        print(f"fitting {name} ...", flush=True)
        try:
            predict = fit(splits["train"], splits["dev"])
        except (FileNotFoundError, LookupError) as exc:  # the tuned candidates' logits
            print(f"  skipped: {exc}")
            continue
        dev_preds = predict(splits["dev"])
        points = {
            "best-F1": best_f1_threshold(splits["dev"], dev_preds.confidence),
            "P>=.85": precision_threshold(splits["dev"], dev_preds.confidence, FEED_PRECISION),
        }
        test_preds = predict(splits["test"])
        for point, threshold in points.items():
            for split, preds in (("dev", dev_preds), ("test", test_preds)):
                rows.append((name, point, threshold, split, figures(splits[split], preds, threshold)))
    return rows


def print_rows(rows: list[tuple[str, str, float, str, Figures]]) -> None:
    print(f"{'candidate':<19}{'point':<9}{'thr':>5} {'split':<5}"
          f"{'P':>7}{'R':>7}{'F1':>7}{'cat':>7}{'mentP':>7}")
    for name, point, threshold, split, f in rows:
        print(f"{name:<19}{point:<9}{threshold:>5.2f} {split:<5}{f.precision:>7.3f}"
              f"{f.recall:>7.3f}{f.f1:>7.3f}{f.category_accuracy:>7.3f}{f.mention_precision:>7.3f}")


def main() -> None:
    import argparse

    from pipelines.extraction.training.data import split_segments

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="candidates to fit (all when none)")
    print_rows(compare(split_segments(), parser.parse_args().names or None))


if __name__ == "__main__":
    main()
