"""Name a cluster: class-based TF-IDF keywords, its most central quotes, and a short label."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

# Words that carry no topic in spoken English.
HESITATIONS = frozenset({"um", "uh", "uhm", "erm", "hmm", "mm", "mhm", "ah", "oh"})
BACKCHANNELS = frozenset({"yeah", "yep", "yes", "okay", "ok", "sure", "right", "let"})
HEDGES = frozenset({"like", "know", "mean", "just", "really", "actually", "basically", "guess"})
MORE_HEDGES = frozenset({"literally", "honestly", "kind", "sort", "think", "maybe", "probably"})
VAGUE = frozenset({"stuff", "thing", "things", "lot", "bit", "pretty", "little", "say", "said"})
SPOKEN_VERBS = frozenset({"gonna", "wanna", "gotta", "going", "got", "get", "says", "does", "did"})
# What the default tokenizer leaves of "don't", "we've", "they'll".
CONTRACTION_STUBS = frozenset(
    {"don", "doesn", "didn", "isn", "aren", "wasn", "weren", "haven", "hasn", "hadn", "won"}
    | {"wouldn", "couldn", "shouldn", "ll", "ve", "re"}
)
SPOKEN_FILLERS = (
    HESITATIONS | BACKCHANNELS | HEDGES | MORE_HEDGES | VAGUE | SPOKEN_VERBS | CONTRACTION_STUBS
)
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS | SPOKEN_FILLERS)
# Long enough for a whole objection ("We're not going to lock ourselves into three years with no
# exit", 12 words, 63 characters); at 10 words / 60 characters that theme was "We're stuck again".
MAX_LABEL_CHARS = 70
MIN_LABEL_WORDS, MAX_LABEL_WORDS = 3, 12
# The label's clause is cut from one of this many most central quotes.
LABEL_SOURCES = 15
# What a clause gains for reading alone as a sentence (reads_alone: 0..1) and for coming from a
# quote the extractor is sure of (0..1): the rest of the score is support (0..1), keyword hits
# (KEYWORD_WEIGHT x 0..1) and centrality (0.5 x ~0.6-0.9), less what its first and last words
# lean on.
GRAMMAR_WEIGHT = 0.5
CONFIDENCE_WEIGHT = 1.0
# Keyword hits are the share of the top three keywords a clause holds; at 1.0 a clause stuffed
# with them won on the demo ("November and December we're planning for January" over "I
# wouldn't want to kick anything off before January").
KEYWORD_WEIGHT = 0.5
# A verb's own subject: with one, a verb after "and" starts a clause of its own.
SUBJECTS = frozenset({"nsubj", "nsubjpass", "expl", "csubj"})
# The spaCy components a clause's parse needs.
PARSE_PIPES = frozenset({"tok2vec", "tagger", "parser", "attribute_ruler"})
# A clause opening with one of these leans on what was said before it.
NEEDS_CONTEXT = frozenset({"one", "plus", "which", "who", "also", "and", "or", "but", "then",
                           "same", "either", "neither", "because", "unless", "than", "as",
                           "if", "whether", "although", "though"})
# ... and one ending with these was cut mid-thought.
DANGLING = frozenset({"the", "a", "an", "to", "of", "and", "or", "with", "for", "in", "on", "at",
                      "our", "my", "your", "their", "is", "are", "was", "that", "but", "so",
                      "if", "be", "than", "from", "by", "about", "we", "i", "it's",
                      # reported speech whose words follow: "a software company says"
                      "says", "said", "say", "asked", "told", "mentioned"})
# A clause may open with a pronoun, but reads worse alone than one naming its subject
# ("It'll be available next year": what will?) ...
PRONOUNS = frozenset({"it", "they", "he", "she"})
PRONOUN_PENALTY = 0.3
# ... and worst with a demonstrative, which points at what was just said ("That's a real gap"),
# unless it heads a noun that names the subject ("This tool doesn't integrate with our ERP"): as a
# subject on its own, a demonstrative is contracted or followed by an auxiliary or, "this" and
# "that", by a verb's -s ("That adds up to a lot more than what Paystream quoted us").
DEMONSTRATIVES = frozenset({"that", "this", "those", "these"})
DEMONSTRATIVE_PENALTY = 0.5
AUXILIARIES = frozenset(
    {"is", "was", "are", "were", "will", "would", "could", "can", "should", "might", "may", "must"}
    | {"has", "had", "have", "does", "did", "do", "isn't", "wasn't", "aren't", "weren't", "won't"}
    | {"wouldn't", "couldn't", "can't", "shouldn't", "doesn't", "didn't", "don't", "hasn't"}
)
# ... or end with these, which point back at what was said before: "nine of them", "the math
# too", "money on the table there". Worse than a clause that says it all, better than keywords:
# "you're about nineteen thousand a year more than them" still names a price theme.
POINTS_BACK = frozenset({"them", "there", "too", "either", "also", "again"})
POINTS_BACK_PENALTY = 0.3
# So does a demonstrative past the first word that heads no noun, standing for what was said: "I'd
# need that in the contract", "I'm doing those as individual wires", "something for this".
_BARE_DEMONSTRATIVE = re.compile(
    r"\s(?:that|this|those|these)(?=$|\s+(?:in|on|at|as|for|to|with|through|by|from|into)\b)",
    re.IGNORECASE,
)
_SENTENCE_BREAK = re.compile(r"(?<=[.!?;])\s+|\s+[—–]\s+|\s-\s")
_CLAUSE_BREAK = re.compile(r",\s+(?=(?:but|and|so|because|though|although|which)\b)|,\s+",
                           re.IGNORECASE)
_SOFT_BREAK = re.compile(r"\s+(?:and|but|so|because)\s+", re.IGNORECASE)
# A condition after the point made: the head reads alone, the tail does not ("I couldn't get a new
# software line item through right now" if it cost a couple hundred bucks a month).
_CONDITION = re.compile(r"\s+(?:if|unless|until|when|whether)\s+", re.IGNORECASE)
# A head ending on one of these has its object in the "if" / "whether" / "when" after it, not a
# condition: "I don't know" if people would adopt it, "I'm not sure" whether we have the budget.
AWAITS_CLAUSE = frozenset({"know", "sure", "decided", "wonder", "ask", "see", "check", "tell",
                           "remember", "idea", "clear"})
_LEADING_FILLER = re.compile(
    r"^(?:(?:um|uh|so|well|yeah|okay|ok|oh|look|honestly|frankly|i mean|you know|"
    r"and|but|like|right(?!\s+(?:now|away|here|there)\b)|see|the thing is|to be honest|i think|"
    r"i guess)\b[\s,.-]*)+",
    re.IGNORECASE,
)


def ctfidf_keywords(texts_by_cluster: dict[int, list[str]], top_n: int = 5) -> dict[int, list[str]]:
    """Top unigrams and bigrams per cluster by class-based TF-IDF (each cluster one document).

    score(t, c) = tf(t, c) / |c| * log(1 + mean words per cluster / total count of t): frequent
    in this cluster, rare across the others. Bigrams replace the unigrams they contain.
    """
    ids = sorted(texts_by_cluster)
    docs = [" ".join(texts_by_cluster[c]) for c in ids]
    vectorizer = CountVectorizer(ngram_range=(1, 2), stop_words=sorted(STOP_WORDS))
    try:
        # kept sparse: dense, clusters x terms held ~0.9 GB at 100k mentions
        counts = vectorizer.fit_transform(docs).astype(np.float64).tocsr()
    except ValueError:  # nothing but stop words (or nothing at all) in every cluster
        return {c: [] for c in ids}
    terms = vectorizer.get_feature_names_out()
    # A phrase said once is an accident of wording (and, with stop words gone, often a non-phrase
    # like "compared budget"); bigrams count only where they recur within the cluster.
    bigrams = np.array([" " in t for t in terms], dtype=bool)
    counts.data[bigrams[counts.indices] & (counts.data < 2)] = 0.0
    counts.eliminate_zeros()
    words_per_class = np.asarray(counts.sum(axis=1)).ravel()
    idf = np.log(1.0 + words_per_class.mean()
                 / np.maximum(np.asarray(counts.sum(axis=0)).ravel(), 1.0))
    scores = counts  # tf * idf, entry by entry: tf = count / words in the cluster
    scores.data /= np.repeat(np.maximum(words_per_class, 1.0), np.diff(scores.indptr))
    scores.data *= idf[scores.indices]
    return {c: _top_terms(scores[row].toarray().ravel(), terms, top_n)
            for row, c in enumerate(ids)}


def representatives(embeddings: np.ndarray, centroid: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k rows most similar to the centroid, most central first (ties: lower index)."""
    if len(embeddings) == 0 or k <= 0:
        return np.zeros(0, dtype=np.int64)
    sims = np.asarray(embeddings, dtype=np.float64) @ np.asarray(centroid, dtype=np.float64)
    return np.argsort(-sims, kind="stable")[:k].astype(np.int64)


def cluster_label(
    texts: Sequence[str], embeddings: np.ndarray, centroid: np.ndarray, keywords: Sequence[str],
    confidences: Sequence[float] | None = None, nlp: Any = None,
) -> str:
    """A short label in the customers' words: the clause that best says what the theme says.

    Candidates are clean clauses (3-12 words, no dangling ends, no opening that needs the previous
    sentence, like "Plus the ..." or "One on ...") cut from the most central quotes. A clause wins
    by how many members say the same content words, how many of the theme's keywords it holds, how
    central and how confident its quote is, and, given a spaCy pipeline, how well it reads alone:
    a subject and its verb ("the three-year term is too long") beat a bare verb phrase ("need the
    CFO's sign-off"), which beats a noun phrase ("not this year"); a subordinate clause ("if we
    commit to three years"), a participle ("already signed off by legal") or a phrase headed by a
    pronoun or preposition ("some of our invoices", "with the grant timing") never wins. When no
    quote holds such a clause the label is built from the keywords. Verbatim, so it can be reused
    as is.
    """
    if not texts:
        return " · ".join(keywords[:3])
    ranked = representatives(embeddings, centroid, LABEL_SOURCES)
    sims = np.asarray(embeddings, dtype=np.float64)[ranked] @ np.asarray(centroid, np.float64)
    sure = np.ones(len(texts)) if confidences is None else np.asarray(confidences, np.float64)
    candidates = [(clause, float(sims[rank]), float(sure[i]))
                  for rank, i in enumerate(ranked) for clause in clauses(texts[int(i)], nlp)]
    grammar = _grammar(nlp, [c for c, _, _ in candidates])
    members = [_content_words(t) for t in texts]
    best, best_score = "", -np.inf
    for (clause, centrality, confidence), reads in zip(candidates, grammar, strict=True):
        if reads <= 0:
            continue
        score = (_clause_score(clause, members, keywords, centrality)
                 + GRAMMAR_WEIGHT * reads + CONFIDENCE_WEIGHT * confidence)
        if score > best_score:
            best, best_score = clause, score
    return best or " · ".join(keywords[:3]) or shorten(_clean_quote(texts[int(ranked[0])]))


def _grammar(nlp: Any, texts: list[str]) -> list[float]:
    """How well each clause reads alone (see `reads_alone`); 1 for all without a pipeline."""
    if nlp is None:
        return [1.0] * len(texts)
    return [reads_alone(doc) for doc in nlp.pipe(texts, disable=_unused_pipes(nlp))]


def _unused_pipes(nlp: Any) -> list[str]:
    # parsing needs only these; the extractor's own components may sit in the same pipeline
    return [p for p in nlp.pipe_names if p not in PARSE_PIPES]


def reads_alone(doc: Any) -> float:
    """1 subject + verb, 0.6 bare verb phrase, 0.3 noun phrase, 0 a fragment (a parsed clause).

    A fragment is anything that leans on a sentence around it: two sentences, a subordinate
    clause ("if we commit to three years"), a participle with no auxiliary ("already signed off
    by their legal"), a phrase headed by a pronoun, determiner or preposition ("some of our
    invoices", "anything over twenty-five thousand", "with the grant timing") or a thing
    described by a relative clause, which names an object but not the point made about it ("the
    scripts we already have"). A question ("help with an integration?") names a worry, not the
    objection: it reads no better than a noun phrase, so a statement wins where a quote has one.
    """
    roots = [s.root for s in doc.sents]
    if len(roots) != 1:
        return 0.0
    root, first = roots[0], doc[0]
    if first.tag_ == "VB" and first.dep_ in ("advcl", "xcomp", "ccomp", "conj"):
        return 0.0  # the tail of a cut sentence: "find out in April it doesn't work"
    deps = {child.dep_ for child in root.children}
    grade = _statement_grade(root, deps)
    return min(grade, 0.3) if doc.text.rstrip().endswith("?") else grade


def _statement_grade(root: Any, deps: set[str]) -> float:
    if root.pos_ in ("VERB", "AUX"):
        if "mark" in deps or (root.tag_ in ("VBN", "VBG") and not deps & {"aux", "auxpass"}):
            return 0.0
        if deps & SUBJECTS:
            return 1.0
        # without a subject only a bare verb phrase reads alone ("need the CFO's sign-off");
        # "goes to the board" lost the subject the sentence gave it
        return 0.6 if root.tag_ == "VB" else 0.0
    return 0.3 if root.pos_ in ("NOUN", "PROPN") and "relcl" not in deps else 0.0


def clauses(text: str, nlp: Any = None) -> list[str]:
    """The clean clauses of a quote that could name a theme on their own (see `_soft_split`)."""
    out = []
    for sentence in _SENTENCE_BREAK.split(" ".join(text.split())):
        parts = _CLAUSE_BREAK.split(sentence)
        for part in parts:
            # a part too long or cut badly ("... because a software company says") may hold a
            # clean clause before its "and" / "but" / "so" / "because", or before a condition
            # when it names its subject ("They don't have to use it" left the point to "unless
            # we put it in the franchise agreement")
            whole = _clean_quote(part)
            head = _clean_quote(_CONDITION.split(part)[0])
            named = [head] if _names_its_point(head) else []
            pieces = [part] if _readable(whole) else [part, *_soft_split(part, nlp), *named]
            out.extend(c for c in map(_clean_quote, pieces) if _readable(c))
    return list(dict.fromkeys(out))


def _soft_split(part: str, nlp: Any) -> list[str]:
    """A part cut at its "and" / "but" / "so" / "because", but, given a parser, not between verbs
    that share what follows: cut there, the head has lost its object ("The contract has to let us
    add" and remove franchisee entities).
    """
    if nlp is None:
        return _SOFT_BREAK.split(part)
    doc = nlp(part, disable=_unused_pipes(nlp))
    cuts = [m for m in _SOFT_BREAK.finditer(part) if not _joins_verbs(doc, m)]
    starts, ends = [0, *(m.end() for m in cuts)], [*(m.start() for m in cuts), len(part)]
    return [part[a:b] for a, b in zip(starts, ends, strict=True)]


def _joins_verbs(doc: Any, conjunction: re.Match[str]) -> bool:
    """Whether a soft break's conjunction follows a verb whose coordinated verb shares its subject
    and its object: "add and remove franchisee entities", not "went up again and nobody warned us".
    """
    span = doc.char_span(conjunction.start(), conjunction.end(), alignment_mode="contract")
    if span is None or span.start == 0:
        return False
    verb = doc[span.start - 1]
    return verb.pos_ in ("VERB", "AUX") and any(
        c.dep_ == "conj" and c.i >= span.end and not {g.dep_ for g in c.children} & SUBJECTS
        for c in verb.children)


def _names_its_point(head: str) -> bool:
    """Whether a head cut before its condition makes its point: names its subject and object."""
    if not head or _opener_penalty(head):
        return False
    # "We wouldn't be able to use it" unless it integrates with SAP: what "it" is, and the point
    last = head.split()[-1].lower()
    return last not in AWAITS_CLAUSE and last != "it" and last not in POINTS_BACK


def _readable(clause: str) -> bool:
    words = clause.lower().split()
    return (MIN_LABEL_WORDS <= len(words) <= MAX_LABEL_WORDS and len(clause) <= MAX_LABEL_CHARS
            and words[0] not in NEEDS_CONTEXT and words[-1].strip("'") not in DANGLING
            and bool(_content_words(clause)))


def _clause_score(clause: str, members: list[set[str]], keywords: Sequence[str],
                  centrality: float) -> float:
    words = _content_words(clause)
    support = sum(len(words & m) * 2 >= len(words) for m in members) / len(members)
    hits = _keyword_hits(clause, keywords) / max(1, min(3, len(keywords)))
    leans = clause.split()[-1].lower().strip("'") in POINTS_BACK or _BARE_DEMONSTRATIVE.search(clause)
    closer = POINTS_BACK_PENALTY if leans else 0.0
    return support + KEYWORD_WEIGHT * hits + 0.5 * centrality - _opener_penalty(clause) - closer


def _opener_penalty(clause: str) -> float:
    """How much a clause's first word leans on what was said before it ("It'll", "That's")."""
    words = clause.lower().replace("’", "'").split()
    first, contracted = words[0].split("'")[0], "'" in words[0]
    if first in DEMONSTRATIVES:
        then = words[1] if len(words) > 1 else ""
        verb_s = first in ("this", "that") and then.endswith("s") and not then.endswith("ss")
        alone = contracted or then in AUXILIARIES or verb_s
        return DEMONSTRATIVE_PENALTY if alone else 0.0
    return PRONOUN_PENALTY if first in PRONOUNS else 0.0


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9']+", text.lower())
            if len(w) > 2 and w not in STOP_WORDS}


def shorten(text: str, max_chars: int = MAX_LABEL_CHARS) -> str:
    """Cut text to at most max_chars at a word boundary, marking the cut with an ellipsis."""
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-–—") + "…"


def _top_terms(row: np.ndarray, terms: np.ndarray, top_n: int) -> list[str]:
    """The top_n best-scoring terms that each add a word; a bigram replaces its own unigrams."""
    chosen: list[str] = []
    # on equal scores the bigram comes first, so its unigrams are then skipped
    ranked = sorted(
        np.flatnonzero(row > 0), key=lambda i: (-row[i], -terms[i].count(" "), terms[i])
    )
    for i in ranked:
        term = str(terms[i])
        words = term.split()
        if set(words) <= {w for t in chosen for w in t.split()}:
            continue
        parts = [k for k, t in enumerate(chosen) if t in words]
        if parts:
            chosen[parts[0]] = term
            chosen = [t for k, t in enumerate(chosen) if k not in parts[1:]]
        else:
            chosen.append(term)
        if len(chosen) == top_n:
            break
    return chosen


def _clean_quote(text: str) -> str:
    text = " ".join(text.split())
    text = _LEADING_FILLER.sub("", text).strip(" ,.;:!-—–")
    return text[:1].upper() + text[1:]


def _keyword_hits(text: str, keywords: Sequence[str]) -> int:
    lowered = text.lower()
    return sum(1 for k in keywords if re.search(rf"\b{re.escape(k)}\b", lowered))
