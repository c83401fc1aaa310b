"""Token patterns tried only on docs that hold the words they require (steps 1 and 2).

spaCy's Matcher starts every pattern at every token and tests its IN lists in Python. A pattern
cannot match a doc lacking a word it requires, so one Matcher per pattern, run only where its
words are, finds the same matches for a fraction of the work.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from spacy.attrs import LEMMA, LOWER, ORTH
from spacy.matcher import Matcher
from spacy.strings import get_string_id
from spacy.tokens import Doc
from spacy.vocab import Vocab

# Token attributes whose values a doc must hold for a pattern pinning them to match.
SCREENED_ATTRS = {"LEMMA": LEMMA, "LOWER": LOWER, "ORTH": ORTH, "TEXT": ORTH}
SCREENED_COLUMNS = (LEMMA, LOWER, ORTH)


def required_values(pattern: list[dict]) -> list[tuple[int, frozenset[str]]]:
    """(token attribute, values) pairs a doc must hold some token of for the pattern to match.

    One pair per pattern token that must be present (no "?", "*" or "!") and is pinned to a
    LEMMA, LOWER or ORTH string or to an IN list of them; other tokens require nothing here.
    """
    required = []
    for spec in pattern:
        spec = {key.upper(): value for key, value in spec.items()}
        if spec.get("OP", "1") not in ("1", "+"):
            continue
        for attr, column in SCREENED_ATTRS.items():
            value = spec.get(attr)
            if isinstance(value, dict):
                value = {key.upper(): v for key, v in value.items()}.get("IN")
            values = [value] if isinstance(value, str) else value
            if isinstance(values, list) and all(isinstance(v, str) for v in values):
                required.append((column, frozenset(values)))
    return required


class WordScreen:
    """Which of many token patterns could match a doc, judged by the words each one requires.

    Each pattern is filed under the words of one of its requirements, so a doc looks up the
    words it holds instead of testing every pattern (testing all 255 cue patterns cost more
    than matching the few that pass); only the patterns found that way have their other
    requirements checked. Words are the string hashes spaCy keeps per token, read at once.
    """

    def __init__(self, patterns: Sequence[list[dict]]) -> None:
        self._required = [
            [(column, frozenset(map(get_string_id, words))) for column, words in required_values(p)]
            for p in patterns
        ]
        self._always = [k for k, required in enumerate(self._required) if not required]
        self._filed: dict[tuple[int, int], list[int]] = defaultdict(list)
        for k, required in enumerate(self._required):
            if required:
                column, words = min(required, key=lambda pair: len(pair[1]))
                for word in words:
                    self._filed[(column, word)].append(k)

    def candidates(self, doc: Doc) -> list[int]:
        """Indices, in pattern order, of the patterns whose required words the doc holds."""
        rows = doc.to_array(list(SCREENED_COLUMNS)).T.tolist()
        present = {column: set(words) for column, words in zip(SCREENED_COLUMNS, rows, strict=True)}
        found = set(self._always)
        for column, words in present.items():
            for word in words:
                found.update(self._filed.get((column, word), ()))
        return sorted(
            k for k in found
            if all(not words.isdisjoint(present[column]) for column, words in self._required[k])
        )


class ScreenedMatcher:
    """A Matcher's (match_id, start, end) triples, each pattern tried only where its words are."""

    def __init__(self, vocab: Vocab, patterns: Sequence[tuple[str, list[dict]]],
                 **options: Any) -> None:
        self._matchers = []
        for key, pattern in patterns:
            matcher = Matcher(vocab, **options)
            matcher.add(key, [pattern])
            self._matchers.append(matcher)
        self._screen = WordScreen([pattern for _, pattern in patterns])

    def __call__(self, doc: Doc) -> list[tuple[int, int, int]]:
        # one Matcher per pattern: a span two patterns of one key match comes once, as from one
        return list(dict.fromkeys(
            match for k in self._screen.candidates(doc) for match in self._matchers[k](doc)))
