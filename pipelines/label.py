"""Readable cluster labels: class-based TF-IDF keywords and the most central quote, shortened."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

FILLERS = frozenset({
    "um", "uh", "like", "yeah", "yes", "okay", "ok", "honestly", "just", "really", "mean",
    "know", "kind", "sort", "gonna", "wanna", "actually", "basically", "right", "think",
    "guess", "probably", "maybe", "pretty", "lot", "thing", "things", "stuff", "bit", "way",
    "don", "didn", "doesn", "isn", "won", "wouldn", "ll", "ve", "re", "s", "t", "d", "m",
})
STOP = frozenset(ENGLISH_STOP_WORDS) | FILLERS
_WORD = re.compile(r"[a-z0-9][a-z0-9'\-]*")
MAX_LABEL = 60


def _terms(text: str) -> list[str]:
    words = [w.strip("'-") for w in _WORD.findall(text.lower())]
    words = [w for w in words if w and w not in STOP and not w.isdigit() and len(w) > 1]
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


def ctfidf_keywords(texts_by_cluster: dict[int, list[str]], top_n: int = 5) -> dict[int, list[str]]:
    """Per cluster, the terms frequent in it and rare in the others (c-TF-IDF, uni+bigrams)."""
    counts = {c: Counter(t for text in texts for t in _terms(text))
              for c, texts in texts_by_cluster.items()}
    total = Counter()
    for c in counts.values():
        total.update(c)
    avg_words = sum(sum(c.values()) for c in counts.values()) / max(1, len(counts))
    out: dict[int, list[str]] = {}
    for cid, tf in counts.items():
        size = sum(tf.values()) or 1
        scored = sorted(((tf[t] / size) * math.log(1 + avg_words / total[t]), t)
                        for t in tf if tf[t] > 1 or len(tf) < 8)
        picked: list[str] = []
        for _, term in sorted(scored, key=lambda x: (-x[0], x[1])):
            if any(term in p or p in term for p in picked):
                continue
            picked.append(term)
            if len(picked) == top_n:
                break
        out[cid] = picked
    return out


def representatives(embeddings: np.ndarray, centroid: np.ndarray, k: int) -> list[int]:
    """Indices of the k rows most similar to the centroid, most central first (stable ties)."""
    sims = embeddings @ centroid
    return [int(i) for i in np.lexsort((np.arange(len(sims)), -sims))[:k]]


def shorten(text: str, limit: int = MAX_LABEL) -> str:
    text = " ".join(text.split()).strip(" ,;:-")
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:-")
    return cut + "…"


def cluster_label(texts: Sequence[str], embeddings: np.ndarray, centroid: np.ndarray,
                  keywords: Sequence[str]) -> str:
    """The most central quote, shortened at a word boundary: it reads as the customer speaks.

    A quote is preferred over a keyword string because marketers recognise it at once; the
    shortest of the three most central quotes is taken so that the label stays scannable. With
    no texts, the keywords are joined instead.
    """
    if not len(texts):
        return " · ".join(keywords[:3]) or "(unlabelled)"
    central = representatives(embeddings, centroid, 3)
    best = min(central, key=lambda i: (len(texts[i]) > 90, len(texts[i]) if len(texts[i]) > 25
                                       else 1000, central.index(i)))
    return shorten(texts[best])
