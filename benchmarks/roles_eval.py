"""Role accuracy on a workspace of recorded calls, with and without the recurrence signal.

    python -m benchmarks.roles_eval [FOLDER]

FOLDER holds transcripts in any supported format plus labels.json ({file: {speaker: role}});
by default the fixture workspace tests/fixtures/workspace. No roster, no emails are used.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pipelines.formats import parse
from pipelines.roles import Evidence, resolve_roles
from pipelines.roles_recurrence import recurrence
from pipelines.types import Conversation

DEFAULT = Path(__file__).parent.parent / "tests" / "fixtures" / "workspace"


def load(folder: Path) -> tuple[dict[str, Conversation], dict[str, dict[str, str]]]:
    labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
    return {name: parse((folder / name).read_bytes()) for name in labels}, labels


def accuracy(calls: dict[str, Conversation], labels: dict[str, dict[str, str]],
             with_recurrence: bool) -> tuple[int, int, list[str]]:
    seen = recurrence((n, [s.name for s in c.speakers]) for n, c in calls.items())
    evidence = Evidence(recurrence=seen) if with_recurrence else Evidence()
    right = total = 0
    wrong_calls = []
    for name, conv in calls.items():
        decisions = resolve_roles(conv, evidence)
        hits = sum(decisions[s].role == role for s, role in labels[name].items())
        right, total = right + hits, total + len(labels[name])
        if hits < len(labels[name]):
            wrong_calls.append(name)
    return right, total, wrong_calls


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    calls, labels = load(folder)
    print(f"{folder}: {len(calls)} calls")
    for flag, title in ((False, "pattern only (no recurrence)"), (True, "with recurrence")):
        right, total, wrong = accuracy(calls, labels, flag)
        print(f"  {title:30s} {right}/{total} speakers right ({right / total:.1%}); "
              f"calls with a wrong speaker: {', '.join(wrong) or 'none'}")


if __name__ == "__main__":
    main()
