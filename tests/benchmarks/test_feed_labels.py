"""feed_eval's label check: where a theme's label was cut from, and its first quote (no model)."""

from __future__ import annotations

from app.services.feed import FeedItem, Row
from benchmarks.feed_labels import Golds, check_theme
from models import Call, Cluster, Mention
from pipelines.extraction.training.labels import Objection

# two members say the label; the small talk has the highest lead, but only turn 2 is confident
TURNS = {1: "Honestly, the three-year term is too long for us.",
         2: "The budget is fine. The three-year term is too long, legal says.",
         3: "Nice weather in Denver today."}
GOLD = Objection(quote="three-year term is too long", category="contract")


def _row(mention_id: int, source: str, confidence: float, lead: float) -> Row:
    text = TURNS[mention_id]
    mention = Mention(id=mention_id, workspace_id=1, call_id=mention_id, utterance_id=mention_id,
                      kind="objection", category="contract", confidence=confidence, text=text,
                      start_char=10, end_char=10 + len(text), speaker="Jo")
    return Row(mention, 7, lead, Call(id=mention_id, external_id=f"{source}/g{mention_id}"), lead)


def _theme(label: str) -> FeedItem:
    rows = [_row(1, "own-clean", 0.5, 1.1), _row(2, "demo", 0.9, 1.2),
            _row(3, "demo", 0.3, 1.9)]
    return FeedItem(Cluster(id=7, workspace_id=1, kind="objection", label=label,
                            category="contract"), score=None, rows=rows)  # type: ignore[arg-type]


def _spans(seen: list) -> Golds:
    """A gold lookup that records the spans asked and says a gold lies in turn 2's 15..60."""
    def golds(row: Row, start: int, end: int) -> tuple[Objection, ...]:
        seen.append((row.mention.id, start, end))
        return (GOLD,) if row.mention.id == 2 and start < 60 and end > 15 else ()
    return golds


def test_the_label_is_traced_to_the_first_quote_in_feed_order_that_holds_it():
    seen: list = []
    check = check_theme(_theme("The three-year term is too long"),
                        lambda r: r.call.external_id.split("/")[0], _spans(seen))
    # the confident member leads the feed's order, so the label is found in it, at 10 + 20
    assert seen[0] == (2, 30, 30 + len("The three-year term is too long"))
    assert check.label_golds == (GOLD,)
    assert check.first_golds == (GOLD,)  # the confident member is the first quote, too
    assert check.source == "demo"  # two members of three


def test_a_label_built_from_keywords_is_in_no_quote():
    check = check_theme(_theme("term · legal · budget"), lambda r: "demo", _spans([]))
    assert check.label_golds is None
