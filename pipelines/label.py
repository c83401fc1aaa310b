"""Name a cluster: class-based TF-IDF keywords, its most central quotes, and a short label."""

from __future__ import annotations

import re
from collections.abc import Sequence

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
MAX_LABEL_CHARS = 60
# The label is picked among this many most central quotes.
LABEL_CANDIDATES = 5
_LEADING_FILLER = re.compile(
    r"^(?:(?:um|uh|so|well|yeah|okay|ok|oh|look|honestly|i mean|you know)\b[\s,.-]*)+",
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
        counts = vectorizer.fit_transform(docs).toarray().astype(np.float64)
    except ValueError:  # nothing but stop words (or nothing at all) in every cluster
        return {c: [] for c in ids}
    terms = vectorizer.get_feature_names_out()
    # A phrase said once is an accident of wording (and, with stop words gone, often a non-phrase
    # like "compared budget"); bigrams count only where they recur within the cluster.
    bigrams = np.char.count(terms.astype(str), " ") > 0
    counts[:, bigrams] = np.where(counts[:, bigrams] >= 2, counts[:, bigrams], 0.0)
    words_per_class = counts.sum(axis=1, keepdims=True)
    tf = counts / np.maximum(words_per_class, 1.0)
    idf = np.log(1.0 + words_per_class.mean() / np.maximum(counts.sum(axis=0), 1.0))
    scores = tf * idf
    return {c: _top_terms(scores[row], terms, top_n) for row, c in enumerate(ids)}


def representatives(embeddings: np.ndarray, centroid: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k rows most similar to the centroid, most central first (ties: lower index)."""
    if len(embeddings) == 0 or k <= 0:
        return np.zeros(0, dtype=np.int64)
    sims = np.asarray(embeddings, dtype=np.float64) @ np.asarray(centroid, dtype=np.float64)
    return np.argsort(-sims, kind="stable")[:k].astype(np.int64)


def cluster_label(
    texts: Sequence[str], embeddings: np.ndarray, centroid: np.ndarray, keywords: Sequence[str]
) -> str:
    """A short human label: a central quote, shortened to MAX_LABEL_CHARS at a word boundary.

    A real customer sentence reads better on a feed than a keyword list ("We signed a 3-year deal
    with Acme" against "signed · acme · year"), and it is verbatim, which is the product's point.
    Among the LABEL_CANDIDATES most central quotes it prefers one that fits whole, then one that
    uses more keywords, then the more central. Keywords are the fallback when there is no text.
    """
    if not texts:
        return " · ".join(keywords[:3])
    ranked = representatives(embeddings, centroid, LABEL_CANDIDATES)
    cleaned = [_clean_quote(texts[i]) for i in ranked]
    best = min(
        range(len(ranked)),
        key=lambda r: (len(cleaned[r]) > MAX_LABEL_CHARS, -_keyword_hits(cleaned[r], keywords), r),
    )
    label = shorten(cleaned[best], MAX_LABEL_CHARS)
    return label or " · ".join(keywords[:3])


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
    text = _LEADING_FILLER.sub("", text).strip(" ,.-")
    return text[:1].upper() + text[1:]


def _keyword_hits(text: str, keywords: Sequence[str]) -> int:
    lowered = text.lower()
    return sum(1 for k in keywords if re.search(rf"\b{re.escape(k)}\b", lowered))
