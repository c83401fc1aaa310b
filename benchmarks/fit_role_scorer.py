"""Fit the conversation-pattern role scorer on labelled calls and report its accuracy.

    python -m benchmarks.fit_role_scorer [--write] [--data benchmarks/data/roles_train.txt]

Accuracy is measured with grouped cross-validation (no call is in both its fold's training and
test part), per speaker: the raw model at 0.5, and the resolver that uses it (one rep per call).
--write refits on every call and stores the weights in pipelines/data/role_scorer.json.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from pipelines.formats import parse
from pipelines.roles import resolve_roles
from pipelines.roles_pattern import FEATURES, WEIGHTS_FILE, PatternModel, features
from pipelines.types import Conversation

DATA = Path(__file__).parent / "data" / "roles_train.txt"
C = 1.0  # fixed, not tuned: the set is small and every feature is already scaled to [-1, 1]
FOLDS = 10


@dataclass(frozen=True)
class Labelled:
    call_id: str
    conv: Conversation
    reps: frozenset[str]


def load(path: Path) -> list[Labelled]:
    """Calls opened by `=== <id> | reps: A, B`; lines starting with # are comments."""
    calls, head, lines = [], None, []
    for line in path.read_text(encoding="utf-8").splitlines() + ["=== end | reps:"]:
        if line.startswith("#"):
            continue
        if line.startswith("=== "):
            if head is not None:
                call_id, reps = head
                conv = parse("\n".join(lines).encode(), fmt="text")
                calls.append(Labelled(call_id, conv, reps))
            call_id, _, reps = line[4:].partition("| reps:")
            head, lines = (call_id.strip(), frozenset(r.strip() for r in reps.split(","))), []
        else:
            lines.append(line)
    return calls


def matrix(calls: list[Labelled]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs, ys, groups = [], [], []
    for i, call in enumerate(calls):
        for name, x in features(call.conv.turns).items():
            xs.append(x)
            ys.append(int(name in call.reps))
            groups.append(i)
    return np.array(xs), np.array(ys), np.array(groups)


def fit(x: np.ndarray, y: np.ndarray) -> PatternModel:
    clf = LogisticRegression(C=C, max_iter=1000).fit(x, y)
    return PatternModel(tuple(float(w) for w in clf.coef_[0]), float(clf.intercept_[0]))


def resolver_correct(call: Labelled, model: PatternModel) -> tuple[int, int]:
    decisions = resolve_roles(call.conv, model=model)
    right = sum((d.role == "rep") == (name in call.reps) for name, d in decisions.items())
    return right, len(decisions)


def cross_validate(calls: list[Labelled]) -> dict[str, float]:
    x, y, groups = matrix(calls)
    raw_right = resolved_right = total = 0
    calls_all_right = 0
    for train, test in GroupKFold(n_splits=FOLDS).split(x, y, groups):
        model = fit(x[train], y[train])
        raw_right += sum((model.p_rep(row) >= 0.5) == bool(label)
                         for row, label in zip(x[test], y[test], strict=True))
        for i in sorted(set(groups[test])):
            right, n = resolver_correct(calls[i], model)
            resolved_right += right
            total += n
            calls_all_right += right == n
    return {"speakers": total, "calls": len(calls), "raw_accuracy": raw_right / total,
            "resolver_accuracy": resolved_right / total,
            "calls_all_right": calls_all_right / len(calls)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    calls = load(args.data)
    report = cross_validate(calls)
    print(f"{report['calls']} calls, {report['speakers']} speakers, {FOLDS}-fold grouped CV")
    print(f"  model alone at 0.5:        {report['raw_accuracy']:.3f} of speakers right")
    print(f"  resolver (pattern only):   {report['resolver_accuracy']:.3f} of speakers right, "
          f"{report['calls_all_right']:.3f} of calls wholly right")
    x, y, _ = matrix(calls)
    model = fit(x, y)
    print("  weights: " + ", ".join(f"{f}={w:+.2f}" for f, w in zip(FEATURES, model.weights,
                                                                    strict=True))
          + f", bias={model.bias:+.2f}")
    if args.write:
        WEIGHTS_FILE.write_text(json.dumps({
            "features": list(FEATURES), "weights": list(model.weights), "bias": model.bias,
            "fitted_on": str(args.data.name), "cv": report}, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {WEIGHTS_FILE}")


if __name__ == "__main__":
    main()
