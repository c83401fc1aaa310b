"""Turn- and mention-level decisions from segment confidences, as the extractor makes them."""

from __future__ import annotations

import numpy as np

from pipelines.extraction.training.dataset import Segments

GRID = np.round(np.arange(0.05, 0.96, 0.01), 2)


def kept_mentions(confidence: np.ndarray, threshold: float) -> np.ndarray:
    """Rows that are mentions at a threshold (every segment at or above it)."""
    return confidence >= threshold


def turn_scores(segs: Segments, confidence: np.ndarray) -> dict[int, tuple[float, int]]:
    """Per turn: its best segment confidence and whether it holds an objection."""
    best: dict[int, tuple[float, int]] = {}
    for turn, p, label in zip(segs.turn, confidence, segs.turn_label, strict=True):
        if int(turn) not in best or p > best[int(turn)][0]:
            best[int(turn)] = (float(p), int(label))
    return best


def turn_counts(segs: Segments, confidence: np.ndarray, threshold: float) -> tuple[int, int, int]:
    """(tp, fp, fn) of "the turn holds an objection" over turns with candidate segments."""
    scores = turn_scores(segs, confidence).values()
    tp = sum(1 for p, y in scores if p >= threshold and y)
    fp = sum(1 for p, y in scores if p >= threshold and not y)
    fn = sum(1 for p, y in scores if p < threshold and y)
    return tp, fp, fn


def f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def precision(tp: int, fp: int) -> float:
    return tp / (tp + fp) if tp + fp else 1.0


def mention_precision(segs: Segments, confidence: np.ndarray, threshold: float) -> float:
    """Share of kept mentions that overlap a gold quote."""
    kept = kept_mentions(confidence, threshold)
    return float(segs.label[kept].mean()) if kept.any() else 1.0


def best_f1_threshold(segs: Segments, confidence: np.ndarray) -> float:
    """The grid threshold with the best turn-level F1."""
    return float(max(GRID, key=lambda t: f1(*turn_counts(segs, confidence, t))))


def precision_threshold(
    segs: Segments, confidence: np.ndarray, target: float, min_support: int = 10
) -> float:
    """The lowest threshold whose turn and mention precision reach target (on at least
    min_support predicted turns); the most precise threshold when none does."""
    scored = []
    for t in GRID:
        tp, fp, _ = turn_counts(segs, confidence, t)
        if tp + fp < min_support:
            break
        worst = min(precision(tp, fp), mention_precision(segs, confidence, t))
        if worst >= target:
            return float(t)
        scored.append((worst, float(t)))
    return max(scored)[1] if scored else float(GRID[-1])
