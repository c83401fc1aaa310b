"""Why planted demo themes split, merge or leak: the share of each cause (reporting only).

    VERBATIM_DATABASE_URL=sqlite:///./verbatim.db python -m benchmarks.demo_theme_diagnosis

Reads what `make run` stored, matches labelled quotes as benchmarks/demo_theme_eval.py does, and
prints: quotes never extracted; mentions filed under another category than planted; pairs of one
planted theme's quotes by where they ended (one theme, apart across categories, apart within
one); pairs of two planted themes sharing a theme; coverage per category size; quotes narrowed
to under half their words; unconfident ones; how far apart one theme's quotes sit. The labelled
set is for reporting: nothing here chooses a parameter.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
from sqlmodel import Session, select

from app.db import make_engine
from app.settings import Settings
from benchmarks.demo_theme_eval import LABELS, same_quote, words
from models import Call, ClusterMember, Mention, Workspace
from pipelines.vectors import unpack


@dataclass(frozen=True)
class Stored:
    """One stored objection mention; gold is its planted theme when a labelled quote matched it."""

    call: str
    text: str
    category: str | None
    confidence: float
    theme: int  # cluster id, -1 for the other group
    vector: np.ndarray
    gold: str | None = None
    quote: str | None = None


def stored(session: Session, workspace_id: int) -> list[Stored]:
    rows = session.exec(
        select(Mention, Call.external_id, ClusterMember.cluster_id)
        .join(Call, Call.id == Mention.call_id)
        .join(ClusterMember, ClusterMember.mention_id == Mention.id, isouter=True)
        .where(Mention.workspace_id == workspace_id, Mention.kind == "objection")
        .order_by(Mention.id))
    return [Stored(call or "", m.text, m.category, m.confidence, -1 if c is None else c,
                   unpack(m.embedding)) for m, call, c in rows]


def with_gold(mentions: list[Stored], labelled: list[dict]) -> tuple[list[Stored], int]:
    """Mentions with the planted theme of the first labelled quote each stands for; misses."""
    gold: dict[int, tuple[str, str]] = {}
    missed = 0
    for item in labelled:
        found = [i for i, m in enumerate(mentions)
                 if m.call == item["call"] and same_quote(m.text, item["quote"])]
        if not found:
            missed += 1
        elif found[0] not in gold:
            gold[found[0]] = (item["theme"], item["quote"])
    out = [Stored(**{**m.__dict__, "gold": gold[i][0], "quote": gold[i][1]}) if i in gold else m
           for i, m in enumerate(mentions)]
    return out, missed


def planted_category(m: Stored) -> str:
    return (m.gold or "").split(":")[0]


def pair_causes(golds: list[Stored]) -> Counter:
    """Where each pair of quotes of one planted theme ended."""
    causes: Counter = Counter()
    for a, b in itertools.combinations(golds, 2):
        if a.gold != b.gold:
            continue
        if a.theme >= 0 and a.theme == b.theme:
            causes["one theme"] += 1
        elif a.category != b.category:
            causes["apart: filed under two categories"] += 1
        elif a.theme < 0 and b.theme < 0:
            causes["apart: one category, both in other"] += 1
        elif a.theme < 0 or b.theme < 0:
            causes["apart: one category, one in other"] += 1
        else:
            causes["apart: one category, two themes"] += 1
    return causes


def print_shares(title: str, counts: Counter) -> None:
    total = sum(counts.values())
    print(f"{title}: {total}")
    for name, n in counts.most_common():
        print(f"  {name:<40}{n:>5}{n / total:>7.2f}")


def coverage_by_category(mentions: list[Stored], golds: list[Stored]) -> None:
    sizes = Counter(m.category for m in mentions)
    themed: dict[str | None, list[bool]] = defaultdict(list)
    for m in golds:
        themed[m.category].append(m.theme >= 0)
    print("labelled quotes in a theme, by the category they were filed under (its mentions):")
    for category, flags in sorted(themed.items(), key=lambda kv: sizes[kv[0]]):
        print(f"  {category or '-':<15}{sizes[category]:>4} mentions  {sum(flags):>3} of "
              f"{len(flags):>3} in a theme")


def spread(golds: list[Stored]) -> None:
    X = np.array([m.vector for m in golds], dtype=np.float64)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    sims = X @ X.T
    same = np.array([[a.gold == b.gold for b in golds] for a in golds])
    np.fill_diagonal(same, False)
    other = ~same
    np.fill_diagonal(other, False)
    np.fill_diagonal(sims, -np.inf)
    nearest_same = np.mean([golds[int(np.argmax(row))].gold == m.gold
                            for row, m in zip(sims, golds, strict=True)])
    print(f"cosine of two quotes of one planted theme: median {np.median(sims[same]):.3f}; of two "
          f"themes {np.median(sims[other]):.3f}; nearest labelled quote of the same theme: "
          f"{nearest_same:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default="demo")
    args = parser.parse_args()
    labelled = [json.loads(line) for line in LABELS.read_text().splitlines() if line.strip()]
    engine = make_engine(Settings.from_env().database_url)
    with Session(engine) as session:
        workspace = session.exec(select(Workspace).where(Workspace.name == args.workspace)).one()
        mentions, missed = with_gold(stored(session, workspace.id), labelled)
    golds = [m for m in mentions if m.gold]
    print(f"labelled quotes {len(labelled)}: not extracted {missed}; {len(golds)} mentions stand "
          f"for the rest, {len(mentions) - len(golds)} mentions for no labelled quote")
    filed = sum(m.category != planted_category(m) for m in golds)
    print(f"filed under another category than planted: {filed} of {len(golds)}")
    narrowed = sum(len(words(m.quote or "") & words(m.text)) * 2 < len(words(m.quote or ""))
                   for m in golds)
    unsure = sum(m.confidence < 0.5 for m in golds)
    print(f"narrowed to under half the quote's words: {narrowed}; confidence under 0.5: {unsure}")
    print_shares("pairs of quotes of one planted theme", pair_causes(golds))
    mixed = Counter("same planted category" if planted_category(a) == planted_category(b)
                    else "two planted categories"
                    for a, b in itertools.combinations(golds, 2)
                    if a.gold != b.gold and a.theme >= 0 and a.theme == b.theme)
    print_shares("pairs of two planted themes in one theme", mixed)
    coverage_by_category(mentions, golds)
    spread(golds)


if __name__ == "__main__":
    main()
