"""Objection extraction on the held-out test split, per source and category, with the real models.

    python -m benchmarks.extraction_eval                 # the shipped extractor on test
    python -m benchmarks.extraction_eval --candidates    # also fit and compare every candidate
    python -m benchmarks.extraction_eval --split dev --errors

The split rule is pipelines/extraction/training/labels.py (by conversation, within a source;
the old hand-written held-out file is test only). Every turn runs through the Extractor with
the rep turn before it. "feed" counts only confident mentions (confidence >= the feed threshold
stored with the model, chosen on dev); "all" counts every objection mention. Beside it: a
keyword tracker as sales tools ship them. Demo mention precision: on demo calls in the split,
a mention is right when it overlaps a gold objection quote of its turn (and, for "same
category", has that quote's category).
"""

from __future__ import annotations

import argparse
import re
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipelines.embed import SentenceEmbedder
from pipelines.extraction import Extractor
from pipelines.extraction.step5_model import MODEL_PATH, load_model
from pipelines.extraction.taxonomy import category_names
from pipelines.extraction.training.candidates import keyword_category
from pipelines.extraction.training.labels import Objection, Turn, load_turns
from pipelines.nlp_models import load_sentence_model, load_spacy
from pipelines.types import ExtractedMention


@dataclass(frozen=True)
class Decision:
    """What one detector said about one turn: its objection mentions (top first)."""

    mentions: tuple[ExtractedMention, ...]

    @property
    def top(self) -> ExtractedMention | None:
        return self.mentions[0] if self.mentions else None


def objections_of(found: Sequence[ExtractedMention], feed_only: bool) -> Decision:
    kept = [m for m in found if m.kind == "objection" and (m.confident or not feed_only)]
    return Decision(tuple(sorted(kept, key=lambda m: -m.confidence)))


def keyword_decision(turn: Turn) -> Decision:
    name = keyword_category(turn.text)
    if name is None:
        return Decision(())
    whole = ExtractedMention("objection", name, turn.text, 0, len(turn.text), 1.0)
    return Decision((whole,))


def tokens(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9']+", text.lower()))


def jaccard(a: str, b: str) -> float:
    ta, tb = tokens(a), tokens(b)
    return len(ta & tb) / len(ta | tb) if ta | tb else 1.0


def overlapping(turn: Turn, mention: ExtractedMention) -> Objection | None:
    """The gold objection whose quote overlaps the mention, if any."""
    for gold in turn.objections:
        start = turn.text.find(gold.quote)
        if start < mention.end and mention.start < start + len(gold.quote):
            return gold
    return None


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def turn_figures(pairs: Sequence[tuple[Turn, Decision]]) -> dict:
    """Turn-level P/R/F1, category accuracy on true positives, quote figures."""
    tp = sum(1 for t, d in pairs if t.objection and d.top)
    fp = sum(1 for t, d in pairs if not t.objection and d.top)
    fn = sum(1 for t, d in pairs if t.objection and not d.top)
    hits = [(t, d.top) for t, d in pairs if t.objection and d.top]
    right = [
        m.category == (overlapping(t, m) or t.objections[0]).category for t, m in hits if m
    ]
    quotes = [jaccard(m.text, (overlapping(t, m) or t.objections[0]).quote) for t, m in hits if m]
    return {
        "n": len(pairs),
        "pos": sum(t.objection for t, _ in pairs),
        "prf": prf(tp, fp, fn),
        "cat": sum(right) / len(right) if right else 0.0,
        "jaccard": sum(quotes) / len(quotes) if quotes else 0.0,
    }


def per_category(pairs: Sequence[tuple[Turn, Decision]]) -> dict[str, tuple[float, ...]]:
    """Per gold category: P/R/F1 of the top mention's category against the turn's categories."""
    rows = {}
    for name in category_names():
        gold = [name in {o.category for o in t.objections} for t, _ in pairs]
        said = [bool(d.top and d.top.category == name) for _, d in pairs]
        tp = sum(g and s for g, s in zip(gold, said, strict=True))
        fp = sum(s and not g for g, s in zip(gold, said, strict=True))
        fn = sum(g and not s for g, s in zip(gold, said, strict=True))
        rows[name] = (*prf(tp, fp, fn), sum(gold))
    return rows


def mention_precision(pairs: Sequence[tuple[Turn, Decision]]) -> tuple[int, float, float]:
    """(mentions, share overlapping a gold quote, share overlapping one of the same category)."""
    mentions = [(t, m) for t, d in pairs for m in d.mentions]
    if not mentions:
        return 0, 0.0, 0.0
    golds = [overlapping(t, m) for t, m in mentions]
    same = [g is not None and g.category == m.category for g, (_, m) in zip(golds, mentions, strict=True)]
    return len(mentions), sum(g is not None for g in golds) / len(mentions), sum(same) / len(mentions)


def print_block(title: str, pairs: Sequence[tuple[Turn, Decision]]) -> None:
    by_source: dict[str, list] = defaultdict(list)
    for pair in pairs:
        by_source[pair[0].source].append(pair)
    print(f"\n== {title}")
    print(f"{'source':<20}{'turns':>6}{'obj':>5}{'P':>7}{'R':>7}{'F1':>7}{'cat':>7}{'jacc':>7}")
    for source, rows in [*sorted(by_source.items()), ("ALL", list(pairs))]:
        f = turn_figures(rows)
        p, r, f1 = f["prf"]
        print(f"{source:<20}{f['n']:>6}{f['pos']:>5}{p:>7.3f}{r:>7.3f}{f1:>7.3f}"
              f"{f['cat']:>7.3f}{f['jaccard']:>7.3f}")


def print_categories(pairs: Sequence[tuple[Turn, Decision]]) -> None:
    print(f"{'category':<16}{'P':>7}{'R':>7}{'F1':>7}{'n':>5}")
    for name, (p, r, f1, n) in per_category(pairs).items():
        print(f"{name:<16}{p:>7.3f}{r:>7.3f}{f1:>7.3f}{n:>5}")


def print_errors(pairs: Sequence[tuple[Turn, Decision]]) -> None:
    for turn, decision in pairs:
        top = decision.top
        if turn.objection == bool(top) and (not top or top.category == turn.category):
            continue
        kind = "FP" if top and not turn.objection else "FN" if not top else "CAT"
        print(f"\n{kind} [{turn.source}] gold={turn.category} text={turn.text[:300]!r}")
        for gold in turn.objections:
            print(f"    gold: {gold.category:<15} {gold.quote!r}")
        for m in decision.mentions:
            print(f"    said: {m.category or '-':<15} {m.confidence:.2f} {m.text!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test"), default="test")
    parser.add_argument("--errors", action="store_true", help="list errors (feed point)")
    parser.add_argument("--candidates", action="store_true", help="fit and compare candidates")
    parser.add_argument("--model", type=Path, default=MODEL_PATH, help="a segment model file")
    args = parser.parse_args()

    turns = [t for t in load_turns() if t.split == args.split]
    extractor = Extractor(
        load_spacy(), SentenceEmbedder(load_sentence_model()), model=load_model(args.model)
    )
    extractor.extract(["Warm-up so the first batch does not pay for lazy initialisation."])
    start = time.perf_counter()
    found = extractor.extract([t.text for t in turns], [t.context for t in turns])
    seconds = time.perf_counter() - start

    feed = [(t, objections_of(f, True)) for t, f in zip(turns, found, strict=True)]
    every = [(t, objections_of(f, False)) for t, f in zip(turns, found, strict=True)]
    keywords = [(t, keyword_decision(t)) for t in turns]
    print(f"split {args.split}: {len(turns)} turns; feed threshold "
          f"{extractor.model.feed_threshold:.2f}, mention threshold {extractor.model.threshold:.2f}")
    print_block("shipped extractor, feed (confident mentions)", feed)
    print_categories(feed)
    print_block("shipped extractor, every objection mention", every)
    print_categories(every)
    print_block("keyword tracker (reference)", keywords)
    print_categories(keywords)

    demo = [(t, d) for t, d in feed if t.source == "demo"]
    demo_all = [(t, d) for t, d in every if t.source == "demo"]
    for label, rows in (("feed", demo), ("all", demo_all)):
        n, any_gold, same = mention_precision(rows)
        print(f"\ndemo mention precision ({label}): {n} mentions on "
              f"{len({t.group for t, _ in rows})} calls; overlaps a gold quote {any_gold:.3f}, "
              f"same category {same:.3f}")
    all_mentions = [m for f in found for m in f]
    exact = [m.text == t.text[m.start : m.end] for t, f in zip(turns, found, strict=True) for m in f]
    print(f"exact-substring quotes: {sum(exact) / max(len(exact), 1):.1%} of {len(all_mentions)}")
    print(f"throughput: {len(turns) / seconds:.1f} turns/s ({seconds:.1f} s)")
    if args.errors:
        print_errors(feed)
    if args.candidates:
        from pipelines.extraction.training.compare import compare, print_rows
        from pipelines.extraction.training.data import split_segments

        print("\n== candidates: fitted on train, thresholds on dev")
        print_rows(compare(split_segments()))


if __name__ == "__main__":
    main()
