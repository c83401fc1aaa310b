"""Mention-level precision on the demo calls, against hand-judged mentions (issue 10).

    python -m benchmarks.demo_mention_precision            # figures per split, feed and all
    python -m benchmarks.demo_mention_precision --unjudged # also list mentions nobody judged
    python -m benchmarks.demo_mention_precision --errors   # wrong mentions by error type
    python -m benchmarks.demo_mention_precision --dump PATH  # every objection mention as JSONL

The extractor runs on the demo calls as ingest runs it (app/jobs/process_call.py): every
customer turn, with the rep turn before it as context; roles are the declared ones, else what
the roles pipeline decides (as ingest does, without a workspace's roster or corrections). Its objection mentions are matched to benchmarks/data/demo_mentions_judged.jsonl
by call external id, turn index and overlapping character span, so the judgements still score a
changed extractor. A mention with no judged counterpart is counted as "unjudged", never dropped.

A mention is precise when the judge said it is an objection under the guideline AND its span is
the clause that states it (not set-up, numbers or small talk). Beside it: the automatic judge
extraction_eval uses (the mention overlaps a gold objection quote of its turn in
benchmarks/data/labelled/demo-calls-*.jsonl), and how often the two agree.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
JUDGED = ROOT / "benchmarks" / "data" / "demo_mentions_judged.jsonl"
LABELLED = ROOT / "benchmarks" / "data" / "labelled"


@dataclass(frozen=True)
class DemoTurn:
    """One customer turn of a demo call, with what the split and the gold labels need."""

    call: str  # the call's external_id, e.g. "demo-13"
    index: int  # position in the call's utterances
    speaker: str
    text: str
    context: str | None
    file: str  # the labelled file the call's turns are in (the unit of the split)
    gold: tuple[tuple[str, str], ...] = ()  # (quote, category) from the turn-by-turn labels


@dataclass(frozen=True)
class FoundMention:
    """One objection mention the extractor made, located by call, turn and characters."""

    call: str
    index: int
    speaker: str
    turn_text: str
    text: str
    start: int
    end: int
    category: str | None
    confidence: float
    file: str = ""


def overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def match(found: FoundMention, judged: Sequence[dict]) -> dict | None:
    """The judged mention of the same call and turn whose span overlaps most, if any.

    The turn text must be the same too: a changed sample makes old offsets meaningless.
    """
    best, best_overlap = None, 0
    for row in judged:
        if (row["call"], row["index"], row["turn_text"]) != (found.call, found.index, found.turn_text):
            continue
        shared = min(found.end, row["end"]) - max(found.start, row["start"])
        if overlaps(found.start, found.end, row["start"], row["end"]) and shared > best_overlap:
            best, best_overlap = row, shared
    return best


def auto_judge(found: FoundMention, gold: Iterable[tuple[str, str]]) -> tuple[bool, bool]:
    """extraction_eval's judge: (overlaps a gold quote of the turn, and with the same category)."""
    for quote, category in gold:
        start = found.turn_text.find(quote)
        if start >= 0 and overlaps(found.start, found.end, start, start + len(quote)):
            return True, category == found.category
    return False, False


def precise(row: dict) -> bool:
    """A judged mention is right when it is an objection and its span states it."""
    return bool(row["is_objection"] and row["span_ok"])


# ---- loading the demo calls


def _labelled_rows() -> dict[tuple[str, int], dict]:
    """Turn-by-turn demo labels keyed by (call file, utterance index), with their file stem."""
    rows = {}
    for path in sorted(LABELLED.glob("demo-calls-*.jsonl")):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            rows[(row["call_file"], row["utterance_index"])] = {**row, "file": path.stem}
    return rows


def _gold(row: dict | None) -> tuple[tuple[str, str], ...]:
    if not row or not row.get("objection"):
        return ()
    found = [(row["quote"], row["category"])]
    found += [(x["quote"], x["category"]) for x in row.get("extra") or []]
    return tuple(g for g in found if g[0] and g[0] in row["text"])


def speaker_roles(call: dict) -> dict[str, str]:
    """Each speaker's role as ingest decides it: the declared role, else the roles pipeline.

    Some demo speakers join a call without being declared (a security lead, a bookkeeper);
    ingest gives them a role from the conversation, and so does this."""
    from pipelines.roles import resolve_roles
    from pipelines.types import CallMeta, Conversation, Speaker, Turn

    speakers = {p["name"]: Speaker(p["name"], p.get("email"), p.get("role"))
                for p in call["participants"]}
    for u in call["utterances"]:
        speakers.setdefault(u["speaker"], Speaker(u["speaker"]))
    conv = Conversation(CallMeta(external_id=call["external_id"]), tuple(speakers.values()),
                        tuple(Turn(u["speaker"], u["text"]) for u in call["utterances"]))
    return {name: decision.role for name, decision in resolve_roles(conv).items()}


def demo_turns(samples: Path = SAMPLES) -> list[DemoTurn]:
    """Every customer turn of every demo call, with the last rep turn before it."""
    labelled = _labelled_rows()
    files = {key[0]: row["file"] for key, row in labelled.items()}
    turns = []
    for path in sorted(samples.glob("*.json")):
        call = json.loads(path.read_text())
        roles = speaker_roles(call)
        last_rep = None
        for i, u in enumerate(call["utterances"]):
            if roles.get(u["speaker"]) == "rep":
                last_rep = u["text"]
                continue
            if roles.get(u["speaker"]) != "customer":
                continue
            row = labelled.get((path.name, i))
            turns.append(DemoTurn(call["external_id"], i, u["speaker"], u["text"], last_rep,
                                  files.get(path.name, ""), _gold(row)))
    return turns


def extract_mentions(turns: Sequence[DemoTurn]) -> list[FoundMention]:
    """The shipped extractor's objection mentions on the turns, as ingest would store them."""
    from pipelines.extraction import Extractor
    from pipelines.nlp_models import load_embedder, load_spacy

    extractor = Extractor(load_spacy(), load_embedder())
    found = extractor.extract([t.text for t in turns], [t.context for t in turns])
    return [
        FoundMention(t.call, t.index, t.speaker, t.text, m.text, m.start, m.end, m.category,
                     round(float(m.confidence), 4), t.file)
        for t, mentions in zip(turns, found, strict=True)
        for m in mentions
        if m.kind == "objection"
    ]


def load_judged(path: Path = JUDGED) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# ---- figures


def _share(hits: int, n: int) -> str:
    return f"{hits / n:.3f}" if n else "  -  "


def wilson_low(hits: int, n: int, z: float = 1.96) -> float:
    """Lower end of the 95% Wilson interval: how low a share of hits/n could plausibly be."""
    if not n:
        return 0.0
    p = hits / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n)


def print_figures(mentions: Sequence[FoundMention], judged: Sequence[dict], threshold: float,
                  turns: Sequence[DemoTurn]) -> list[FoundMention]:
    """Prints the table; returns the unjudged mentions."""
    from pipelines.extraction.training.labels import split_of

    gold = {(t.call, t.index): t.gold for t in turns}
    by_split: dict[tuple[str, str], list] = defaultdict(list)
    unjudged = []
    for m in mentions:
        row = match(m, judged)
        if row is None:
            unjudged.append(m)
        for scope in ("feed", "all") if m.confidence >= threshold else ("all",):
            by_split[(split_of(m.file), scope)].append((m, row))
    print(f"{'split':<7}{'scope':<6}{'ment':>6}{'judged':>8}{'unjdg':>7}{'prec':>7}{'lo95':>7}"
          f"{'obj':>7}{'cat':>7}{'auto':>7}{'agree':>7}")
    for split in ("train", "dev", "test", "ALL"):
        for scope in ("feed", "all"):
            rows = [r for (s, sc), rs in by_split.items() if sc == scope and split in (s, "ALL")
                    for r in rs]
            judged_rows = [(m, r) for m, r in rows if r is not None]
            n = len(judged_rows)
            right = [precise(r) for _, r in judged_rows]
            objection = sum(bool(r["is_objection"]) for _, r in judged_rows)
            category = sum(bool(r["right_category"]) for _, r in judged_rows if r["is_objection"])
            auto = [auto_judge(m, gold.get((m.call, m.index), ()))[0] for m, _ in judged_rows]
            agree = sum(a == h for a, h in zip(auto, right, strict=True))
            print(f"{split:<7}{scope:<6}{len(rows):>6}{n:>8}{len(rows) - n:>7}"
                  f"{_share(sum(right), n):>7}{wilson_low(sum(right), n):>7.3f}"
                  f"{_share(objection, n):>7}"
                  f"{_share(category, objection):>7}{_share(sum(auto), n):>7}"
                  f"{_share(agree, n):>7}")
    return unjudged


def print_errors(mentions: Sequence[FoundMention], judged: Sequence[dict], threshold: float,
                 turns: Sequence[DemoTurn], examples: int) -> None:
    """Error types of the judged wrong mentions, wrong categories, and where the judges differ."""
    gold = {(t.call, t.index): t.gold for t in turns}
    pairs = [(m, r) for m in mentions if (r := match(m, judged)) is not None]
    kinds: dict[str, list] = defaultdict(list)
    for m, r in pairs:
        if not precise(r):
            kinds[r["error_type"]].append((m, r))
        elif not r["right_category"]:
            kinds["wrong category"].append((m, r))
    print("\nerrors (all mentions; feed count in brackets):")
    for kind, rows in sorted(kinds.items(), key=lambda kv: -len(kv[1])):
        feed = sum(m.confidence >= threshold for m, _ in rows)
        print(f"  {len(rows):>4} [{feed}] {kind}")
        for m, r in rows[:examples]:
            said = f" {m.category}->{r['correct_category']}" if kind == "wrong category" else ""
            print(f"         {m.call} #{m.index} {m.confidence:.2f}{said} {m.text[:90]!r}"
                  f"  ({r['reason']})")
    split = defaultdict(int)
    for m, r in pairs:
        split[(auto_judge(m, gold.get((m.call, m.index), ()))[0], precise(r))] += 1
    print(f"\nauto vs hand: both right {split[(True, True)]}, both wrong {split[(False, False)]}, "
          f"auto right / hand wrong {split[(True, False)]}, auto wrong / hand right "
          f"{split[(False, True)]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dump", type=Path, help="write every objection mention here and stop")
    parser.add_argument("--unjudged", action="store_true", help="list unjudged mentions")
    parser.add_argument("--errors", type=int, nargs="?", const=5, default=0, metavar="N",
                        help="error types with N examples each (default 5)")
    args = parser.parse_args()

    from pipelines.extraction import feed_threshold

    turns = demo_turns()
    start = time.perf_counter()
    mentions = extract_mentions(turns)
    seconds = time.perf_counter() - start
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    print(f"{len(turns)} customer turns on {len({t.call for t in turns})} demo calls -> "
          f"{len(mentions)} objection mentions ({seconds:.1f} s wall, "
          f"{cpu.ru_utime + cpu.ru_stime:.1f} s CPU for the process)")
    if args.dump:
        args.dump.write_text("".join(json.dumps(asdict(m)) + "\n" for m in mentions))
        print(f"wrote {args.dump}")
        return
    threshold = feed_threshold()
    print(f"feed threshold {threshold:.2f}; prec = objection and span right (lo95: its 95% Wilson "
          f"lower bound); obj = objection; "
          f"cat = right category among objections; auto = overlaps a gold quote; agree = "
          f"auto and hand judge agree on right/wrong")
    judged = load_judged()
    unjudged = print_figures(mentions, judged, threshold, turns)
    print(f"unjudged mentions: {len(unjudged)} of {len(mentions)} "
          f"(feed: {sum(m.confidence >= threshold for m in unjudged)})")
    if args.unjudged:
        for m in unjudged:
            print(f"  {m.call} #{m.index} {m.confidence:.2f} {m.category}: {m.text!r}")
    if args.errors:
        print_errors(mentions, judged, threshold, turns, args.errors)


if __name__ == "__main__":
    main()
