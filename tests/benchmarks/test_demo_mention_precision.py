"""The demo mention matcher and the hand-judged file it reads (no model needed)."""

from __future__ import annotations

import json

from benchmarks.demo_mention_precision import (
    SAMPLES,
    FoundMention,
    auto_judge,
    demo_turns,
    load_judged,
    match,
    precise,
    wilson_low,
)
from pipelines.extraction.taxonomy import category_names

TURN = "We love it. But the price is too high for us, and legal hates the term."


def found(start: int, end: int, call: str = "demo-01", index: int = 3,
          turn: str = TURN) -> FoundMention:
    return FoundMention(call, index, "Ana", turn, turn[start:end], start, end, "price", 0.9)


def judged(start: int, end: int, **extra) -> dict:
    row = {"call": "demo-01", "index": 3, "turn_text": TURN, "text": TURN[start:end],
           "start": start, "end": end, "is_objection": True, "span_ok": True}
    return {**row, **extra}


def test_match_needs_same_call_turn_and_an_overlapping_span():
    price = judged(TURN.index("the price"), TURN.index(", and legal"))
    assert match(found(TURN.index("price"), TURN.index(" for us")), [price]) is price
    assert match(found(0, TURN.index(" But")), [price]) is None  # same turn, no overlap
    assert match(found(price["start"], price["end"], index=4), [price]) is None
    assert match(found(price["start"], price["end"], call="demo-02"), [price]) is None


def test_spans_that_only_touch_do_not_match():
    price = judged(10, 20)
    assert match(found(20, 30), [price]) is None
    assert match(found(0, 10), [price]) is None
    assert match(found(19, 30), [price]) is price


def test_match_picks_the_judged_mention_it_overlaps_most():
    a, b = judged(0, 20), judged(20, 60)
    assert match(found(15, 40), [a, b]) is b
    assert match(found(5, 25), [a, b]) is a


def test_a_changed_turn_text_does_not_match_old_offsets():
    row = judged(0, 11)
    edited = "We really love it. " + TURN[12:]
    assert match(found(0, 11, turn=edited), [row]) is None


def test_auto_judge_is_overlap_with_a_gold_quote_and_its_category():
    gold = (("the price is too high for us", "price"),)
    assert auto_judge(found(TURN.index("price"), TURN.index(", and")), gold) == (True, True)
    assert auto_judge(found(TURN.index("legal"), len(TURN)), gold) == (False, False)
    assert auto_judge(found(0, 10), ()) == (False, False)


def test_precise_needs_an_objection_with_the_right_span():
    assert precise(judged(0, 5))
    assert not precise(judged(0, 5, span_ok=False))
    assert not precise(judged(0, 5, is_objection=False, span_ok=None))


def test_every_judged_mention_is_an_exact_quote_of_a_current_demo_turn():
    turns = {}
    for path in SAMPLES.glob("*.json"):
        call = json.loads(path.read_text())
        turns |= {(call["external_id"], i): u["text"] for i, u in enumerate(call["utterances"])}
    rows = load_judged()
    assert len(rows) >= 250
    for row in rows:
        assert turns[(row["call"], row["index"])] == row["turn_text"]
        assert row["turn_text"][row["start"]:row["end"]] == row["text"]


def test_demo_turns_are_the_customer_turns_with_the_rep_turn_before():
    turns = [t for t in demo_turns() if t.call == "demo-01"]
    assert turns[0].index == 1 and turns[0].text.startswith("Yep, loud and clear.")
    assert turns[0].context == "Hi Rachel, hi Sam — can you hear me okay?"
    assert all(t.file == "demo-calls-01" for t in turns)


def test_judgements_are_consistent():
    names = category_names()
    for row in load_judged():
        if row["is_objection"]:
            assert row["correct_category"] in names
            assert row["right_category"] == (row["correct_category"] == row["category"])
            assert isinstance(row["span_ok"], bool)
        else:
            assert row["span_ok"] is row["right_category"] is row["correct_category"] is None
        assert (row["error_type"] is None) == precise(row)
        assert row["reason"]


def test_wilson_lower_bound_is_below_the_share_and_tightens_with_n():
    assert wilson_low(0, 0) == 0.0
    assert 0.75 < wilson_low(13, 13) < 0.8  # 13 of 13 is still compatible with ~0.77
    assert wilson_low(13, 13) < wilson_low(130, 130) < 1.0
    assert wilson_low(5, 10) < 0.5
