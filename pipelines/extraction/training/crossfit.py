"""Out-of-fold objection logits on train: each segment scored by a model fitted without its file.

Dev alone (about 570 turns) chooses Platt scaling and the feed threshold, noisily: the lowest
threshold where precision reaches 0.85 moved 0.76 -> 0.82 when 368 turns joined train. Scored
out of fold, the train turns (about ten times as many) give the same curve with less noise;
benchmarks/threshold_stability.py compares the two. Folds are whole labelled files, as the
split is, so no conversation scores itself."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.model_selection import GroupKFold

from pipelines.extraction.training.dataset import Segments

FOLDS = 5

# Fits on some segments, returns the function that scores others (an objection logit per row).
Recipe = Callable[[Segments], Callable[[Segments], np.ndarray]]


def out_of_fold_logits(train: Segments, files: np.ndarray, recipe: Recipe) -> np.ndarray:
    """Every train row's logit from the recipe fitted on the other folds; files names each
    row's labelled file (the folds' unit)."""
    logits = np.zeros(len(train.label))
    for fitted, scored in GroupKFold(n_splits=FOLDS).split(train.label, groups=files):
        score = recipe(train.rows(_mask(fitted, len(logits))))
        logits[scored] = score(train.rows(_mask(scored, len(logits))))
    return logits


def _mask(rows: np.ndarray, n: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    return mask
