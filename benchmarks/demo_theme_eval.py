"""Our demo themes against the labelled demo theme set; also the demo feed's top themes.

    VERBATIM_DATABASE_URL=sqlite:///./verbatim.db python benchmarks/demo_theme_eval.py

Reads the database that `make run` (or `verbatim demo --no-serve`) filled. The set,
benchmarks/data/demo_themes.jsonl, names for each planted objection in samples/ (call + exact
quote) the theme it was planted as; 27 themes over the 9 categories. A stored mention stands for a
labelled quote when it comes from the same call and one quote holds the other, or they share at
least half their words. NMI and ARI count the other groups as one more cluster (as
cluster_eval.py counts noise); coverage is the share of labelled quotes found that sit in a theme.
The top themes are listed with the first quote the feed shows for each, starred when it stands
for a labelled (planted) objection.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sqlmodel import Session, select

from app.db import make_engine
from app.services.feed import FeedFilters, FeedItem, best_quotes, build_feed
from app.settings import Settings
from models import Call, ClusterMember, Mention, Workspace

LABELS = Path(__file__).parent / "data" / "demo_themes.jsonl"


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9']+", text.lower()))


def same_quote(a: str, b: str) -> bool:
    a_, b_ = " ".join(a.lower().split()), " ".join(b.lower().split())
    if a_ in b_ or b_ in a_:
        return True
    wa, wb = words(a), words(b)
    return bool(wa and wb) and len(wa & wb) * 2 >= min(len(wa), len(wb))


def stored(session: Session, workspace_id: int) -> dict[str, list[tuple[str, int]]]:
    """Per call external id: (quote, theme id or -1) of every objection mention."""
    rows = session.exec(
        select(Call.external_id, Mention.text, ClusterMember.cluster_id)
        .select_from(Mention)
        .join(Call, Call.id == Mention.call_id)
        .join(ClusterMember, ClusterMember.mention_id == Mention.id, isouter=True)
        .where(Mention.workspace_id == workspace_id, Mention.kind == "objection"))
    out: dict[str, list[tuple[str, int]]] = {}
    for call, text, cluster_id in rows:
        out.setdefault(call or "", []).append((text, -1 if cluster_id is None else cluster_id))
    return out


def match(labelled: list[dict], mentions: dict[str, list[tuple[str, int]]]):
    gold, ours, missed = [], [], 0
    for item in labelled:
        found = [c for text, c in mentions.get(item["call"], []) if same_quote(text, item["quote"])]
        if not found:
            missed += 1
            continue
        gold.append(item["theme"])
        ours.append(found[0])
    return gold, np.array(ours), missed


def top_themes(feed: list[FeedItem], labelled: list[dict], top: int) -> None:
    """The feed's top themes, each with its first quote, starred when it is a labelled quote."""
    print(f"\ntop {top} objection themes (of {len(feed)}), each with its first quote "
          "(* a labelled quote):")
    starred = 0
    for rank, item in enumerate(feed[:top], start=1):
        first = best_quotes(item.rows, 1)[0]
        star = any(i["call"] == first.call.external_id and same_quote(first.mention.text,
                                                                      i["quote"])
                   for i in labelled)
        starred += star
        print(f"{rank:>3}. [{item.cluster.category}] {item.cluster.label} — {len(item.rows)} "
              f"mentions, {item.score.mentions} confident, {item.score.calls} calls\n"
              f"     {'*' if star else ' '} {first.mention.text[:100]}")
    print(f"first quotes that are labelled quotes: {starred} of {min(top, len(feed))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default="demo")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    labelled = [json.loads(line) for line in LABELS.read_text().splitlines() if line.strip()]
    engine = make_engine(Settings.from_env().database_url)
    with Session(engine) as session:
        workspace = session.exec(select(Workspace).where(Workspace.name == args.workspace)).one()
        gold, ours, missed = match(labelled, stored(session, workspace.id))
        feed = build_feed(session=session, workspace_id=workspace.id, kind="objection",
                          filters=FeedFilters())
    print(f"labelled quotes {len(labelled)} in {len({i['theme'] for i in labelled})} themes; "
          f"found among the mentions {len(gold)}, not extracted {missed}")
    nmi = normalized_mutual_info_score(gold, ours)
    ari = adjusted_rand_score(gold, ours)
    print(f"{'demo':<10}{'NMI':>7}{'ARI':>7}{'cover':>7}{'themes':>8}")
    print(f"{'ours':<10}{nmi:>7.3f}{ari:>7.3f}{np.mean(ours >= 0):>7.3f}"
          f"{len(set(ours.tolist()) - {-1}):>8d}")
    top_themes(feed, labelled, args.top)
    categories = Counter(item.cluster.category for item in feed)
    print("\nthemes per category:", dict(sorted(categories.items(), key=lambda kv: str(kv[0]))))


if __name__ == "__main__":
    main()
