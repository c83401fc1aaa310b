"""Objection extraction quality on a labelled JSONL file, with the real models.

    python benchmarks/extraction_eval.py
    python benchmarks/extraction_eval.py --errors --split tune

Each line is {"text", "objection", "category", "quote", "context"}; the text runs through the
pipeline as one customer turn. Prints precision/recall/F1 of "contains an objection", category
accuracy on true positives, per-category P/R/F1, the share of quotes that are exact substrings,
token Jaccard of the top quote against the gold quote, and utterances per second.

`--split tune|holdout` keeps a fixed ~30 % of items (by a hash of the text) out of sight while
patterns and prototypes are worked on, so the holdout figure estimates unseen data.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipelines.embed import SentenceEmbedder
from pipelines.extract import Extractor
from pipelines.nlp_models import load_sentence_model, load_spacy
from pipelines.types import ExtractedMention

DEV_PATH = Path(__file__).parent / "data" / "extraction_dev.jsonl"
HOLDOUT_SHARE = 3  # tenths of the items kept for the holdout split


@dataclass(frozen=True)
class Item:
    """One labelled customer turn."""

    text: str
    objection: bool
    category: str | None
    quote: str | None
    context: str | None


@dataclass(frozen=True)
class Prediction:
    """What the pipeline said about one item: its top objection mention, if any."""

    mentions: tuple[ExtractedMention, ...]

    @property
    def top(self) -> ExtractedMention | None:
        objections = [m for m in self.mentions if m.kind == "objection"]
        return max(objections, key=lambda m: m.confidence) if objections else None


def load_items(path: Path = DEV_PATH) -> list[Item]:
    """Items from a JSONL file; blank lines are skipped."""
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [
        Item(r["text"], bool(r["objection"]), r.get("category"), r.get("quote"), r.get("context"))
        for r in rows
    ]


def in_split(item: Item, split: str) -> bool:
    """Whether an item belongs to the split: all, tune (~70 %) or holdout (~30 %)."""
    if split == "all":
        return True
    bucket = int(hashlib.sha256(item.text.encode("utf-8")).hexdigest(), 16) % 10
    return (bucket < HOLDOUT_SHARE) == (split == "holdout")


def tokens(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9']+", text.lower()))


def jaccard(a: str, b: str) -> float:
    """Token Jaccard similarity of two strings (1.0 when both are empty)."""
    ta, tb = tokens(a), tokens(b)
    return len(ta & tb) / len(ta | tb) if ta | tb else 1.0


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def report(items: Sequence[Item], predictions: Sequence[Prediction], seconds: float) -> dict:
    """All printed figures as a dict (also handy for tests and notes)."""
    pairs = list(zip(items, predictions, strict=True))
    tp = sum(1 for i, p in pairs if i.objection and p.top)
    fp = sum(1 for i, p in pairs if not i.objection and p.top)
    fn = sum(1 for i, p in pairs if i.objection and not p.top)
    hits = [(i, p.top) for i, p in pairs if i.objection and p.top]
    categories = sorted({i.category for i in items if i.category})
    per_category = {}
    for name in categories:
        c_tp = sum(1 for i, p in pairs if i.category == name and p.top and p.top.category == name)
        c_fp = sum(1 for i, p in pairs if i.category != name and p.top and p.top.category == name)
        c_fn = sum(
            1 for i, p in pairs if i.category == name and not (p.top and p.top.category == name)
        )
        per_category[name] = (*prf(c_tp, c_fp, c_fn), sum(1 for i in items if i.category == name))
    exact = [
        m.text == i.text[m.start : m.end] and m.text in i.text for i, p in pairs for m in p.mentions
    ]
    return {
        "items": len(items),
        "prf": prf(tp, fp, fn),
        "counts": (tp, fp, fn),
        "category_accuracy": sum(i.category == m.category for i, m in hits) / len(hits)
        if hits
        else 0.0,
        "per_category": per_category,
        "exact_share": sum(exact) / len(exact) if exact else 1.0,
        "mentions": len(exact),
        "quote_jaccard": sum(jaccard(m.text, i.quote or "") for i, m in hits) / len(hits)
        if hits
        else 0.0,
        "throughput": len(items) / seconds if seconds else float("inf"),
    }


def print_report(figures: dict) -> None:
    precision, recall, f1 = figures["prf"]
    tp, fp, fn = figures["counts"]
    print(f"items {figures['items']}  (tp {tp}, fp {fp}, fn {fn})")
    print(f"contains an objection: P {precision:.3f}  R {recall:.3f}  F1 {f1:.3f}")
    print(f"category accuracy on true positives: {figures['category_accuracy']:.3f}")
    print(f"{'category':<16}{'P':>7}{'R':>7}{'F1':>7}{'n':>5}")
    for name, (p, r, f, n) in figures["per_category"].items():
        print(f"{name:<16}{p:>7.3f}{r:>7.3f}{f:>7.3f}{n:>5}")
    print(f"exact-substring quotes: {figures['exact_share']:.1%} of {figures['mentions']} mentions")
    print(
        f"top quote vs gold quote, token Jaccard (true positives): {figures['quote_jaccard']:.3f}"
    )
    print(f"throughput: {figures['throughput']:.1f} utterances/s")


def print_errors(items: Sequence[Item], predictions: Sequence[Prediction]) -> None:
    for item, prediction in zip(items, predictions, strict=True):
        top = prediction.top
        if item.objection == bool(top) and (not top or top.category == item.category):
            continue
        kind = "FP" if top and not item.objection else "FN" if not top else "CAT"
        print(f"\n{kind}  gold={item.category}  text={item.text!r}")
        if item.quote:
            print(f"    gold quote: {item.quote!r}")
        for m in prediction.mentions:
            print(f"    {m.kind:<9} {m.category or '-':<15} {m.confidence:.2f}  {m.text!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, nargs="?", help="JSONL to evaluate (default: dev set)")
    parser.add_argument("--input", type=Path, default=None)
    parser.add_argument("--split", choices=("all", "tune", "holdout"), default="all")
    parser.add_argument("--errors", action="store_true", help="list false positives/negatives")
    args = parser.parse_args()

    path = args.file or args.input or DEV_PATH
    items = [item for item in load_items(path) if in_split(item, args.split)]
    extractor = Extractor(load_spacy(), SentenceEmbedder(load_sentence_model()))
    extractor.extract(["Warm-up so the first batch does not pay for lazy initialisation."])
    start = time.perf_counter()
    mentions = extractor.extract([item.text for item in items])
    seconds = time.perf_counter() - start
    predictions = [Prediction(tuple(found)) for found in mentions]
    if args.errors:
        print_errors(items, predictions)
        print()
    print_report(report(items, predictions, seconds))


if __name__ == "__main__":
    main()
