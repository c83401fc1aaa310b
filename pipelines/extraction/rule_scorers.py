"""The rule scorers of issue 4, kept for pain, question topics and as the baseline candidate.

The objection decision itself is now the learned model of step5_model.py; "objection" below is
the old logistic model, compared against it as `legacy-logistic` in benchmarks/extraction_eval.py.

How data/mention_scorers.json is calibrated:
- "objection": one logistic regression over ~14 segment features (rule cues after polarity,
  prototype similarities, negation, what the utterance's other segments say). Its weights are
  fitted on the old dev set by the retired benchmarks/fit_mention_scorer.py (one row per candidate
  segment, positive when it overlaps the gold quote), so its output is a calibrated probability
  and is the mention's confidence. The decision threshold is the cross-validated best.
- "category": three shared weights (rule-cue bonus, topic-word bonus, weight of the neighbouring
  segments) added to prototype similarity; chosen on a grid by the same script. Shared weights
  let a workspace's own categories compete through their prototypes alone.
- "pain": hand-set, not fitted (the dev set labels objections only): pain-prototype similarity
  against neutral and objection similarity, plus the pain cue.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SCORER_PATH = Path(__file__).parent / "data" / "mention_scorers.json"


@dataclass(frozen=True)
class LogisticModel:
    """p = sigmoid(bias + sum(weight * feature)); unknown features count as 0."""

    bias: float
    weights: Mapping[str, float]
    threshold: float = 0.5

    def probability(self, features: Mapping[str, float]) -> float:
        z = self.bias + sum(w * features.get(name, 0.0) for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@dataclass(frozen=True)
class CategoryEvidence:
    """Per-category vectors for one segment: prototype similarity, rule cues, topic words."""

    similarity: np.ndarray
    rule: np.ndarray
    topic: np.ndarray


# Segments whose others are averaged in one go: the gathered rows grow with this times the
# utterance's segments (a 20,000-character turn of "Go on." has ~2,850 of them).
OTHERS_BLOCK = 64


def mean_of_others(evidence: Sequence[CategoryEvidence]) -> list[CategoryEvidence | None]:
    """Per segment, the mean evidence of its utterance's other segments (None when alone).

    One mean per field for a block of segments (row k of `others` indexes all segments but k)
    instead of three per segment; the sums run over the same rows in the same order, so the
    values are those of np.mean over each segment's others."""
    n = len(evidence)
    if n < 2:
        return [None] * n
    fields = [np.stack([getattr(e, name) for e in evidence])
              for name in ("similarity", "rule", "topic")]
    out: list[CategoryEvidence | None] = []
    for start in range(0, n, OTHERS_BLOCK):
        others = np.array([[j for j in range(n) if j != k]
                           for k in range(start, min(n, start + OTHERS_BLOCK))])
        means = [field[others].mean(axis=1) for field in fields]
        out.extend(CategoryEvidence(*(m[k] for m in means)) for k in range(len(others)))
    return out


@dataclass(frozen=True)
class CategoryWeights:
    """score = sim + rule_bonus*rule + topic_bonus*topic, plus context_weight times the same
    sum over the utterance's other segments (their mean)."""

    rule_bonus: float
    topic_bonus: float
    context_weight: float

    def scores(self, own: CategoryEvidence, context: CategoryEvidence | None) -> np.ndarray:
        total = self._combine(own)
        if context is not None:
            total = total + self.context_weight * self._combine(context)
        return total

    def _combine(self, evidence: CategoryEvidence) -> np.ndarray:
        return (
            evidence.similarity
            + self.rule_bonus * evidence.rule
            + self.topic_bonus * evidence.topic
        )


@dataclass(frozen=True)
class Scorers:
    """Everything the extractor needs to turn features into decisions."""

    objection: LogisticModel
    pain: LogisticModel
    category: CategoryWeights


def _logistic(spec: Mapping) -> LogisticModel:
    return LogisticModel(
        bias=float(spec["bias"]),
        weights={k: float(v) for k, v in spec["weights"].items()},
        threshold=float(spec.get("threshold", 0.5)),
    )


def load_scorers(path: Path = SCORER_PATH) -> Scorers:
    """The scorers stored in the data file (weights as fitted for issue 4)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    category = raw["category"]
    return Scorers(
        objection=_logistic(raw["objection"]),
        pain=_logistic(raw["pain"]),
        category=CategoryWeights(
            float(category["rule_bonus"]),
            float(category["topic_bonus"]),
            float(category["context_weight"]),
        ),
    )
