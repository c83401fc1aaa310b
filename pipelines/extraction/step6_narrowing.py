"""Narrow an objection quote to the clauses that carry its cues ("X, so Y" -> "Y")."""

from __future__ import annotations

from collections.abc import Sequence

from spacy.tokens import Span

from pipelines.extraction.step1_segments import FILLERS_KEY, FillerIndex, trim

BOUNDARY_PUNCT = frozenset({",", ";", ":", "--", "—", "–", "...", "…"})
# Words that open a new clause after a comma: "..., so we'd be paying for empty seats".
CLAUSE_OPENERS = frozenset(
    {
        "and",
        "but",
        "so",
        "because",
        "cause",
        "since",
        "though",
        "although",
        "which",
        "if",
        "unless",
        "otherwise",
        "plus",
        "especially",
        "probably",
        "whereas",
        "while",
        "then",
    }
)
# A leading subordinate clause belongs to the statement after it: "if it's all on us, we can't".
SUBORDINATORS = frozenset(
    {"if", "unless", "when", "because", "since", "although", "though", "while"}
)
CLAUSE_SUBJECTS = frozenset({"PRON"})
MIN_QUOTE_WORDS = 3


def clause_chunks(segment: Span) -> list[tuple[int, int]]:
    """Token ranges of the segment split at punctuation that starts a new clause."""
    doc = segment.doc
    chunks, start = [], segment.start
    for token in segment:
        if token.text not in BOUNDARY_PUNCT or token.i in (segment.start, segment.end - 1):
            continue
        following = _next_word(segment, token.i + 1)
        if following is None:
            continue
        opener = doc[following]
        if opener.lower_ in CLAUSE_OPENERS or opener.pos_ in CLAUSE_SUBJECTS:
            if token.i > start:
                chunks.append((start, token.i))
            start = token.i + 1
    chunks.append((start, segment.end))
    return chunks


def _next_word(segment: Span, i: int) -> int | None:
    """The next token that is neither punctuation nor a hesitation sound."""
    doc = segment.doc
    while i < segment.end and (doc[i].is_punct or doc[i].pos_ == "INTJ" or doc[i].is_space):
        i += 1
    return i if i < segment.end else None


def _opens_subordinate(segment: Span, start: int) -> bool:
    first = _next_word(segment, start)
    return first is not None and segment.doc[first].lower_ in SUBORDINATORS


def narrow(segment: Span, cues: Sequence[Span]) -> Span:
    """The smallest run of clause chunks holding every cue, trimmed; else the segment itself."""
    inside = [c for c in cues if c.start >= segment.start and c.end <= segment.end]
    if not inside:
        return segment
    first = min(c.start for c in inside)
    last = max(c.end for c in inside)
    all_chunks = clause_chunks(segment)
    chosen = [k for k, (a, b) in enumerate(all_chunks) if a < last and first < b]
    begin = chosen[0]
    while begin > 0 and _opens_subordinate(segment, all_chunks[begin - 1][0]):
        begin -= 1
    start, end = all_chunks[begin][0], all_chunks[chosen[-1]][1]
    if (start, end) == (segment.start, segment.end):
        return segment
    doc = segment.doc
    narrowed = trim(doc[start:end], FillerIndex(list(doc.spans.get(FILLERS_KEY, []))))
    if narrowed is None or sum(t.is_alpha for t in narrowed) < MIN_QUOTE_WORDS:
        return segment
    return narrowed
