"""Normalised key phrases of a span: lemmatised noun chunks and verb phrases for counting."""

from __future__ import annotations

from spacy.tokens import Span, Token

CONTENT_POS = frozenset({"NOUN", "PROPN", "ADJ", "VERB", "NUM"})
# Verbs too light to stand alone as a phrase; kept when they carry an object ("have budget").
LIGHT_VERBS = frozenset({"be", "have", "do", "get", "go", "make", "know", "think", "say", "let"})
OBJECT_DEPS = frozenset({"dobj", "prt", "attr", "oprd", "acomp", "xcomp"})


def normalise(tokens: list[Token]) -> str:
    """Lowercase lemmas without stopwords, punctuation or spaces, joined by single spaces."""
    words = [
        (t.lemma_ or t.text).lower()
        for t in tokens
        if not (t.is_stop or t.is_punct or t.is_space) and (t.lemma_ or t.text).strip()
    ]
    return " ".join(w for w in words if w not in {"-pron-", "'s"})


def key_phrases(span: Span) -> tuple[str, ...]:
    """Noun chunks then verb phrases inside the span, normalised and de-duplicated in order."""
    doc = span.doc
    phrases: list[str] = []
    if doc.has_annotation("DEP"):
        phrases += [normalise(list(chunk)) for chunk in span.noun_chunks]
        phrases += [_verb_phrase(t, span) for t in span if t.pos_ == "VERB"]
    elif doc.has_annotation("TAG") or doc.has_annotation("POS"):
        phrases += [normalise(run) for run in _content_runs(span)]
    else:
        phrases += [normalise([t]) for t in span]
    seen: dict[str, None] = {}
    for phrase in phrases:
        if phrase:
            seen.setdefault(phrase, None)
    return tuple(seen)


def _verb_phrase(verb: Token, span: Span) -> str:
    parts = [verb]
    for child in verb.children:
        if child.dep_ in OBJECT_DEPS and span.start <= child.i < span.end:
            # The head of the object is enough: "spend hour", not "spend many long hour".
            parts.append(child)
            break
    if len(parts) == 1:
        for prep in (c for c in verb.children if c.dep_ == "prep"):
            objects = [
                g for g in prep.children if g.dep_ == "pobj" and span.start <= g.i < span.end
            ]
            if objects:
                parts.append(objects[0])
                break
    if len(parts) == 1 and verb.lemma_ in LIGHT_VERBS:
        return ""
    phrase = normalise(parts)
    return phrase if " " in phrase or verb.lemma_ not in LIGHT_VERBS else ""


def _content_runs(span: Span) -> list[list[Token]]:
    runs: list[list[Token]] = [[]]
    for token in span:
        if token.pos_ in CONTENT_POS and not token.is_stop:
            runs[-1].append(token)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]
