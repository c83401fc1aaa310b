"""The objection feed on held-out labelled calls: reach, precision and category purity per source.

    python -m benchmarks.feed_eval                      # every test-split source
    python -m benchmarks.feed_eval --sources own-clean,demo
    python -m benchmarks.feed_eval --split dev --labels  # develop on dev, never on test

The labelled turns of the extraction test split (the split rule is read from
pipelines/extraction/training/labels.py, never copied) are posted through the API as calls: the
turns of one conversation (`group`) make one call, each customer turn preceded by the rep turn
it answered (`context`). The app's own worker processes them, a rebuild runs, and the feed is
read as the app builds it (categories -> themes and other groups), in a temporary SQLite database.

- reach: share of gold objections whose quote overlaps a mention the objection feed shows (in a
  theme or in an "other" group); "themes" counts themes only, "ranked" confident mentions only
  (the ones a ranking counts).
- precision: share of the feed's mentions that overlap a gold objection of their turn; "prec@t"
  of the mentions in themes, "prec@r" of the confident ones.
- purity: of the feed's mentions that overlap a gold objection, the share shown under the gold
  category (a theme's category for a theme member, the mention's own for the other group).

A last table shows what the feed would reach and show if it kept only mentions at or above a
confidence (the extractor's mention threshold, a calibrated even chance, its feed threshold):
the one lever the feed has over precision, paid for in reach. The closing table holds the
themes' labels and first quotes against the gold (benchmarks/feed_labels.py); --labels lists them.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.db import session_scope
from app.main import create_app
from app.services.feed import CategoryGroup, FeedFilters, Row, build_categories
from app.services.workspaces import create_api_key, get_or_create_workspace
from app.settings import Settings
from benchmarks.feed_labels import ThemeCheck, check_theme, report_labels, show_labels
from models import Call, Utterance
from pipelines.extraction.step5_model import default_model
from pipelines.extraction.training.labels import Objection, Turn, load_turns

REP = {"name": "Sam Rep", "email": "sam@relayhq.com", "role": "rep"}
CUSTOMER = {"name": "Alex Buyer", "email": "alex@prospect.example", "role": "customer"}


@dataclass(frozen=True)
class Shown:
    """One mention as the feed shows it, with the gold objections its quote overlaps."""

    source: str
    category: str | None  # the category it is shown under
    themed: bool
    confident: bool
    confidence: float
    turn: str | None  # the labelled turn it was said in
    golds: tuple[Objection, ...]


def conversations(turns: list[Turn]) -> dict[tuple[str, str], list[Turn]]:
    """Turns grouped into conversations, in the order they were written."""
    calls: dict[tuple[str, str], list[Turn]] = defaultdict(list)
    for turn in turns:
        calls[(turn.source, turn.group)].append(turn)
    return calls


def payload(external_id: str, turns: list[Turn], day: int) -> dict:
    """A native-JSON call: each customer turn after the rep turn it answered."""
    utterances, t = [], 0
    for turn in turns:
        if turn.context:
            utterances.append({"speaker": REP["name"], "start_ms": t, "text": turn.context})
        utterances.append({"speaker": CUSTOMER["name"], "start_ms": t + 5000, "text": turn.text})
        t += 20000
    return {"external_id": external_id, "title": external_id, "account": external_id,
            "started_at": f"2026-11-{1 + day % 28:02d}T10:00:00Z", "outcome": "open",
            "participants": [REP, CUSTOMER], "utterances": utterances}


def spaced(text: str) -> str:
    """Whitespace as ingest stores it (runs collapsed), so labelled text is found in a call."""
    return " ".join(text.split())


def overlapping(text: str, start: int, end: int, golds: tuple[Objection, ...]) -> tuple:
    """The gold objections whose quote overlaps text[start:end] (the extraction_eval rule)."""
    found = []
    for gold in golds:
        quote = spaced(gold.quote)
        at = text.find(quote)
        if at >= 0 and at < end and start < at + len(quote):
            found.append(gold)
    return tuple(found)


def post_and_rebuild(client: TestClient, headers: dict, calls: dict) -> dict[str, str]:
    """Posts every call, processes them, rebuilds; returns external id -> source."""
    sources = {}
    for day, ((source, group), turns) in enumerate(sorted(calls.items())):
        external_id = f"{source}/{group}"
        r = client.post("/v1/calls", json=payload(external_id, turns, day), headers=headers)
        if r.status_code != 202:
            raise RuntimeError(f"{external_id}: {r.status_code} {r.text[:300]}")
        sources[external_id] = source
    client.app.state.worker.run_until_idle()
    r = client.post("/v1/clusters/rebuild", headers=headers)
    if r.status_code != 202:
        raise RuntimeError(f"rebuild: {r.status_code} {r.text[:300]}")
    client.app.state.worker.run_until_idle()
    return sources


class GoldIndex:
    """The labelled turn a feed row was said in, and the gold objections a span of it overlaps."""

    def __init__(self, session: Session, workspace_id: int, golds_by_turn: dict) -> None:
        self.texts = {u.id: u.text for u in session.exec(select(Utterance).where(
            Utterance.workspace_id == workspace_id))}
        self.golds_by_turn = golds_by_turn

    def turn(self, row: Row) -> Turn | None:
        text = self.texts[row.mention.utterance_id]
        return self.golds_by_turn.get((row.call.external_id, spaced(text)))

    def golds(self, row: Row, start: int, end: int) -> tuple[Objection, ...]:
        turn = self.turn(row)
        text = self.texts[row.mention.utterance_id]
        return overlapping(text, start, end, turn.objections) if turn else ()


def feed_mentions(groups: list[CategoryGroup], index: GoldIndex,
                  sources: dict[str, str]) -> list[Shown]:
    """Every mention of the objection feed, themes and other groups, matched against the gold."""
    shown = []
    for group in groups:
        placed: list[tuple[Row, str | None, bool]] = [
            (r, t.cluster.category, True) for t in group.themes for r in t.rows]
        placed += [(r, group.category, False) for r in group.other]
        for row, category, themed in placed:
            m, turn = row.mention, index.turn(row)
            shown.append(Shown(sources[row.call.external_id], category, themed, row.confident,
                               m.confidence, turn.id if turn else None,
                               index.golds(row, m.start_char, m.end_char)))
    return shown


def share(hits: int, total: int) -> float:
    return hits / total if total else float("nan")


def report(turns: list[Turn], shown: list[Shown], matched: dict, themes: int) -> None:
    """One row per source and one for all: gold objections, reach, precision, purity."""
    print(f"{'source':<18}{'gold':>6}{'reach':>7}{'themes':>8}{'ranked':>8}{'shown':>7}"
          f"{'prec':>7}{'prec@t':>8}{'prec@r':>8}{'purity':>8}")
    sources = sorted({t.source for t in turns})
    for source in [*sources, None]:
        golds = [(t, g) for t in turns for g in t.objections if source in (None, t.source)]
        rows = [s for s in shown if source in (None, s.source)]
        ranked = [s for s in rows if s.confident]
        themed = [s for s in rows if s.themed]
        right = [s for s in rows if s.golds]

        def reached(how: str, golds=golds) -> float:
            return share(sum(how in matched.get((t.id, g.quote), set()) for t, g in golds),
                         len(golds))

        pure = sum(any(g.category == s.category for g in s.golds) for s in right)
        print(f"{source or 'ALL':<18}{len(golds):>6}{reached('any'):>7.3f}"
              f"{reached('theme'):>8.3f}{reached('ranked'):>8.3f}{len(rows):>7}"
              f"{share(len(right), len(rows)):>7.3f}"
              f"{share(sum(bool(s.golds) for s in themed), len(themed)):>8.3f}"
              f"{share(sum(bool(s.golds) for s in ranked), len(ranked)):>8.3f}"
              f"{share(pure, len(right)):>8.3f}")
    print(f"themes: {themes}; mentions in themes {sum(s.themed for s in shown)} of {len(shown)}")


def by_confidence(turns: list[Turn], shown: list[Shown]) -> None:
    """Reach, precision and purity of the feed cut at a few confidences (all sources)."""
    model = default_model()
    golds = sum(len(t.objections) for t in turns)
    print(f"\n{'shown if conf >=':<18}{'reach':>7}{'shown':>7}{'prec':>7}{'purity':>8}")
    for name, cut in ((f"{model.threshold:.2f} (mention)", model.threshold),
                      ("0.50 (even)", 0.5), (f"{model.feed_threshold:.2f} (feed)",
                                             model.feed_threshold)):
        kept = [s for s in shown if s.confidence >= cut]
        right = [s for s in kept if s.golds]
        reached = {(s.turn, g.quote) for s in right for g in s.golds}
        pure = sum(any(g.category == s.category for g in s.golds) for s in right)
        print(f"{name:<18}{share(len(reached), golds):>7.3f}{len(kept):>7}"
              f"{share(len(right), len(kept)):>7.3f}{share(pure, len(right)):>8.3f}")


def reach_marks(shown: list[Shown]) -> dict[tuple[str, str], set[str]]:
    """(turn id, gold quote) -> how it is reached: any, theme, ranked."""
    marks: dict[tuple[str, str], set[str]] = defaultdict(set)
    for s in shown:
        for g in s.golds:
            key = (str(s.turn), g.quote)
            marks[key].add("any")
            if s.themed:
                marks[key].add("theme")
            if s.confident:
                marks[key].add("ranked")
    return marks


def evaluate(url: str, calls: dict,
             golds_by_turn: dict) -> tuple[list[Shown], list[ThemeCheck], int]:
    """Posts the calls into a fresh workspace at url; the feed's mentions, its themes' labels
    and first quotes, and how many calls were processed."""
    app = create_app(Settings(database_url=url, worker_enabled=False))
    with TestClient(app) as client:
        with session_scope(app.state.engine) as session:
            workspace = get_or_create_workspace(session=session, name="held-out")
            workspace_id = workspace.id
            key = create_api_key(session=session, workspace=workspace)
        sources = post_and_rebuild(client, {"Authorization": f"Bearer {key}"}, calls)
        with Session(app.state.engine) as session:
            groups = build_categories(session=session, workspace_id=workspace_id,
                                      kind="objection", filters=FeedFilters())
            index = GoldIndex(session, workspace_id, golds_by_turn)
            shown = feed_mentions(groups, index, sources)
            checks = [check_theme(t, lambda r: sources[r.call.external_id], index.golds)
                      for g in groups for t in g.themes]
            processed = len(session.exec(select(Call.id).where(
                Call.workspace_id == workspace_id, Call.status == "processed")).all())
    return shown, checks, processed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", help="comma-separated sources (default: all in the split)")
    parser.add_argument("--split", choices=("dev", "test"), default="test")
    parser.add_argument("--database", help="an empty database URL to keep (default: a temp one)")
    parser.add_argument("--labels", action="store_true", help="list every theme's label")
    args = parser.parse_args()
    wanted = set(args.sources.split(",")) if args.sources else None
    turns = [t for t in load_turns() if t.split == args.split
             and (wanted is None or t.source in wanted)]
    calls = conversations(turns)
    # a gold objection is found again by its call and the exact text of its turn
    golds_by_turn = {(f"{t.source}/{t.group}", spaced(t.text)): t for t in turns}
    started = time.perf_counter()
    if args.database:
        shown, checks, processed = evaluate(args.database, calls, golds_by_turn)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'feed-eval.db'}"
            shown, checks, processed = evaluate(url, calls, golds_by_turn)
    print(f"split {args.split}: {len(turns)} turns as {len(calls)} calls ({processed} processed)"
          f" in {time.perf_counter() - started:.0f} s; feed mentions not traced to a labelled "
          f"turn: {sum(s.turn is None for s in shown)}")
    report(turns, shown, reach_marks(shown), len(checks))
    by_confidence(turns, shown)
    report_labels(checks)
    if args.labels:
        show_labels(checks)


if __name__ == "__main__":
    main()
