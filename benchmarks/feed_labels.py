"""Theme labels and first quotes against the gold, for benchmarks/feed_eval.py (reporting only).

For each theme the feed forms:
- label: the label's clause is found in a member's quote (the first such member in the feed's
  quote order), and that clause overlaps a gold objection of its turn; a label built from
  keywords has no quote and never counts;
- label cat: ... and one of those gold objections is of the theme's category;
- first: the first quote the feed shows for the theme overlaps a gold objection.
A theme counts toward the source most of its members come from.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from app.services.feed import FeedItem, Row, best_quotes
from pipelines.extraction.training.labels import Objection

# (row, start, end) -> the gold objections that utterance span overlaps
Golds = Callable[[Row, int, int], tuple[Objection, ...]]


@dataclass(frozen=True)
class ThemeCheck:
    """One theme's label and first quote, held against the gold."""

    source: str
    category: str | None
    label: str
    label_golds: tuple[Objection, ...] | None  # None: the label is in no member's quote
    first_golds: tuple[Objection, ...]


def check_theme(theme: FeedItem, source_of: Callable[[Row], str], golds: Golds) -> ThemeCheck:
    """Where the theme's label was cut from and what its first shown quote is."""
    sources = Counter(source_of(r) for r in theme.rows)
    source = min(sources, key=lambda s: (-sources[s], s))
    ordered = best_quotes(theme.rows, len(theme.rows))
    label, label_golds = theme.cluster.label, None
    for row in ordered:
        at = row.mention.text.lower().find(label.lower())
        if at >= 0:
            start = row.mention.start_char + at
            label_golds = golds(row, start, start + len(label))
            break
    first = ordered[0].mention
    return ThemeCheck(source, theme.cluster.category, label, label_golds,
                      golds(ordered[0], first.start_char, first.end_char))


def report_labels(checks: list[ThemeCheck]) -> None:
    """One row per source and one for all: themes, verbatim labels, gold labels, gold firsts."""
    print(f"\n{'themes by source':<18}{'themes':>7}{'quoted':>8}{'label':>7}{'label cat':>10}"
          f"{'first':>7}")
    for source in [*sorted({c.source for c in checks}), None]:
        rows = [c for c in checks if source in (None, c.source)]
        n = max(len(rows), 1)
        quoted = sum(c.label_golds is not None for c in rows)
        gold = sum(bool(c.label_golds) for c in rows)
        same = sum(any(g.category == c.category for g in c.label_golds or ()) for c in rows)
        first = sum(bool(c.first_golds) for c in rows)
        print(f"{source or 'ALL':<18}{len(rows):>7}{quoted / n:>8.3f}{gold / n:>7.3f}"
              f"{same / n:>10.3f}{first / n:>7.3f}")


def show_labels(checks: list[ThemeCheck]) -> None:
    """Every theme's label, marked L when it overlaps a gold objection, F when its first does."""
    print()
    for c in sorted(checks, key=lambda c: (c.source, str(c.category), c.label)):
        marks = ("L" if c.label_golds else "-") + ("F" if c.first_golds else "-")
        print(f"{marks} {c.source:<16}[{c.category}] {c.label}")
