"""A spaCy component that sorts cues into kept, neutralised and hedged (conditional) groups."""

from __future__ import annotations

from collections.abc import Iterable

from spacy.language import Language
from spacy.tokens import Doc, Span, Token

from pipelines.extraction.step1_segments import sentence_of
from pipelines.extraction.step2_cues import (
    CUES_KEY,
    DOUBT_ID_PREFIX,
    NEUTRAL_LABEL,
    OBJECTION_PREFIX,
    TOPIC_PREFIX,
)

KEPT_KEY = "vb_cues_kept"
NEUTRALISED_KEY = "vb_cues_neutralised"
HEDGED_KEY = "vb_cues_hedged"

NEGATORS = frozenset({"not", "never", "no", "without", "hardly", "barely"})
NEGATIVE_SUBJECTS = frozenset({"nothing", "nobody", "none", "neither", "nor"})
CONDITIONALS = frozenset({"if", "unless", "whether", "assuming", "suppose", "supposing"})
# "I don't think X is a problem" negates X: negation raised through these verbs.
RAISING_VERBS = frozenset(
    [
        "think",
        "believe",
        "feel",
        "expect",
        "see",
        "say",
        "seem",
        "suppose",
        "imagine",
        "guess",
        "reckon",
        "anticipate",
        "foresee",
        "consider",
        "call",
    ]
)
# "We don't need to wait", "it isn't going to be a problem": negation reaches the infinitive.
XCOMP_RAISERS = frozenset({"need", "have", "go", "seem", "appear", "tend"})
# "We can't accept the liability cap": refusing a thing objects to it rather than defusing it.
REFUSALS = frozenset(
    {"accept", "love", "like", "want", "agree", "tolerate", "allow", "sign", "stomach", "afford"}
)
# "It's pricey, but we'll find the money": a concern answered in the same sentence.
CONTRASTS = frozenset({"but", "though", "although", "however", "yet"})
MIN_ANSWER_TOKENS = 3
# Dependencies that attach a word to the predicate of its own clause.
WITHIN_CLAUSE = frozenset(
    [
        "attr",
        "acomp",
        "dobj",
        "pobj",
        "prep",
        "nsubj",
        "nsubjpass",
        "amod",
        "compound",
        "det",
        "poss",
        "advmod",
        "oprd",
        "npadvmod",
        "dative",
        "agent",
        "pcomp",
        "nmod",
        "appos",
        "neg",
        "aux",
        "auxpass",
        "prt",
        "quantmod",
        "nummod",
    ]
)


class CuePolarity:
    """Splits non-topic cues by whether negation, a condition or a later "but" defuses them.

    Neutral cues ("sounds good") that a later "but ... <objection>" overrides are defused too.
    """

    def __init__(self, cues_key: str = CUES_KEY) -> None:
        self.cues_key = cues_key

    def __call__(self, doc: Doc) -> Doc:
        parsed = doc.has_annotation("DEP")
        groups: dict[str, list[Span]] = {KEPT_KEY: [], NEUTRALISED_KEY: [], HEDGED_KEY: []}
        for span in doc.spans.get(self.cues_key, []):
            groups[self._group(span, parsed)].append(span)
        answered = answered_cues(groups[KEPT_KEY]) + overridden_praise(groups[KEPT_KEY])
        groups[KEPT_KEY] = [s for s in groups[KEPT_KEY] if s not in answered]
        groups[NEUTRALISED_KEY] += answered
        for key, spans in groups.items():
            doc.spans[key] = spans
        return doc

    def _group(self, span: Span, parsed: bool) -> str:
        if span.label_.startswith(TOPIC_PREFIX) or is_doubt(span):
            return KEPT_KEY
        if parsed:
            negated, hedged = parsed_polarity(span)
        else:
            negated, hedged = window_polarity(span)
        if negated:
            return NEUTRALISED_KEY
        return HEDGED_KEY if hedged else KEPT_KEY


def is_doubt(span: Span) -> bool:
    """Doubt cues ("what if", "how do I know") hold whatever negation or condition surrounds them."""
    return span.id_.startswith(DOUBT_ID_PREFIX)


def _has_negator(tokens: Iterable[Token]) -> bool:
    return any(t.lower_ in NEGATORS or t.lemma_ in NEGATORS or t.dep_ == "neg" for t in tokens)


def clause_head(token: Token) -> Token:
    """The predicate of the clause a token belongs to."""
    while token.dep_ in WITHIN_CLAUSE and token.head.i != token.i:
        token = token.head
    return token


def parsed_polarity(span: Span) -> tuple[bool, bool]:
    """(negated, hedged) from the dependency tree: a negator on the clause, or an if-clause."""
    own_condition = any(t.lower_ in CONDITIONALS for t in span)
    if _has_negator(span):
        # The pattern carries its own negation ("don't have the budget"): it means what it says.
        return False, not own_condition and _conditional(clause_head(span.root))
    inside = range(span.start, span.end)
    head = clause_head(span.root)
    # Every word from the cue up to its clause's predicate may carry the negation.
    local = [span.root]
    while local[-1].i != head.i and local[-1].head.i != local[-1].i:
        local.append(local[-1].head)
    negated = any(
        _negates(t, inside) and (t.i == span.root.i or t.lemma_ not in REFUSALS) for t in local
    )
    governor = head.head
    raised = governor.lemma_ in RAISING_VERBS or (
        head.dep_ == "xcomp" and governor.lemma_ in XCOMP_RAISERS
    )
    if not negated and head.dep_ in {"ccomp", "xcomp"} and raised:
        negated = _negates(governor, inside)
    # A pattern that spells out its condition ("unless he signs off") is not hedged by it.
    return negated, not own_condition and _conditional(head)


def _negates(token: Token, inside: range) -> bool:
    children = [c for c in token.children if c.i not in inside]
    if any(c.dep_ == "neg" or c.lemma_ in {"not", "never"} for c in children):
        return True
    if any(c.lower_ in {"no", "zero"} and c.dep_ in {"det", "neg", "advmod"} for c in children):
        return True
    return any(c.lower_ in NEGATIVE_SUBJECTS and c.dep_.startswith("nsubj") for c in children)


def _conditional(head: Token) -> bool:
    for token in (head, *head.ancestors):
        if token.dep_ == "advcl" and any(c.lower_ in CONDITIONALS for c in token.children):
            return True
        if any(c.dep_ == "mark" and c.lower_ in CONDITIONALS for c in token.children):
            return True
    return False


def _is_objection(span: Span) -> bool:
    return span.label_.startswith(OBJECTION_PREFIX)


def answered_cues(kept: list[Span]) -> list[Span]:
    """Objection cues followed, in their sentence, by a contrast that raises no objection."""
    answered = []
    for span in kept:
        if not _is_objection(span) or is_doubt(span):
            continue
        sentence = sentence_of(span)
        rest = span.doc[span.end : sentence.end]
        turn = next((t.i for t in rest if t.lower_ in CONTRASTS), None)
        if turn is None or sentence.end - turn - 1 < MIN_ANSWER_TOKENS:
            continue
        if not any(_is_objection(o) and o.start > turn for o in kept):
            answered.append(span)
    return answered


def overridden_praise(kept: list[Span]) -> list[Span]:
    """Neutral cues followed, in their sentence, by a contrast and an objection ("love it, but")."""
    overridden = []
    for span in kept:
        if span.label_ != NEUTRAL_LABEL:
            continue
        rest = span.doc[span.end : sentence_of(span).end]
        turn = next((t.i for t in rest if t.lower_ in CONTRASTS), None)
        if turn is not None and any(_is_objection(o) and o.start > turn for o in kept):
            overridden.append(span)
    return overridden


def window_polarity(span: Span, window: int = 3) -> tuple[bool, bool]:
    """(negated, hedged) without a parser: a negator just before, or "if" earlier in the sentence."""
    if _has_negator(span):
        return False, False
    doc = span.doc
    before = doc[max(0, span.start - window) : span.start]
    negated = _has_negator(before)
    hedged = False
    for token in reversed(doc[: span.start]):
        if token.is_sent_start and doc.has_annotation("SENT_START"):
            hedged = hedged or token.lower_ in CONDITIONALS
            break
        if token.text in {",", ".", ";", "?", "!"}:
            break
        if token.lower_ in CONDITIONALS:
            hedged = True
            break
    return negated, hedged


@Language.factory("verbatim_cue_polarity", default_config={"cues_key": CUES_KEY})
def make_cue_polarity(nlp: Language, name: str, cues_key: str) -> CuePolarity:
    """Sort cues into vb_cues_kept / vb_cues_neutralised / vb_cues_hedged."""
    return CuePolarity(cues_key)
