"""A spaCy component that cuts a doc into quotable segments: sentences trimmed of edge fillers."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc, Span

from pipelines.extraction.screened_matcher import ScreenedMatcher
from pipelines.extraction.step2_cues import DATA_DIR, load_patterns

FILLERS_PATH = DATA_DIR / "filler_patterns.jsonl"
SEGMENTS_KEY = "vb_segments"
BACKCHANNEL_KEY = "vb_backchannel"
FILLERS_KEY = "vb_fillers"

# "filler" is dropped wherever it stands at an edge; "filler:punct" only when punctuation sets
# it apart ("Look, the price..." but not "Look at the price").
FILLER = "filler"
BACKCHANNEL = "backchannel"
TERMINALS = frozenset({".", "?", "!"})


class Segmenter:
    """Writes one trimmed span per sentence to doc.spans[SEGMENTS_KEY].

    Segments that are nothing but backchannel ("can you hear me?") also go to BACKCHANNEL_KEY.
    """

    def __init__(self, nlp: Language, patterns_path: Path = FILLERS_PATH) -> None:
        entries = load_patterns(patterns_path)
        self.matcher = ScreenedMatcher(
            nlp.vocab, [(entry["label"], entry["pattern"]) for entry in entries], validate=True)

    def __call__(self, doc: Doc) -> Doc:
        # in document order, as spaCy's Matcher gives them
        found = sorted(self.matcher(doc), key=lambda match: match[1:])
        matches = [Span(doc, start, end, label=key) for key, start, end in found]
        fillers = [span for span in matches if span.label_ != BACKCHANNEL]
        backchannel = {(s.start, s.end) for s in matches if s.label_ == BACKCHANNEL}
        index = FillerIndex(fillers)
        segments, trivial = [], []
        for sentence in sentences(doc):
            segment = trim(sentence, index)
            if segment is None:
                continue
            segments.append(segment)
            if _content_bounds(segment) in backchannel or _content_bounds(sentence) in backchannel:
                trivial.append(segment)
        doc.spans[SEGMENTS_KEY] = segments
        doc.spans[BACKCHANNEL_KEY] = trivial
        doc.spans[FILLERS_KEY] = fillers
        return doc


class FillerIndex:
    """Filler matches by start and by end token, for trimming a span's edges."""

    def __init__(self, fillers: list[Span]) -> None:
        self.starts: dict[int, list[tuple[int, str]]] = defaultdict(list)
        self.ends: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for span in fillers:
            self.starts[span.start].append((span.end, span.label_))
            self.ends[span.end].append((span.start, span.label_))


def sentences(doc: Doc) -> list[Span]:
    """The doc's sentences, or the whole doc when nothing has set sentence boundaries."""
    if doc.has_annotation("SENT_START"):
        return list(doc.sents)
    return [doc[:]] if len(doc) else []


def sentence_of(span: Span) -> Span:
    """The sentence holding a span (the whole doc when sentences are not set)."""
    return span.sent if span.doc.has_annotation("SENT_START") else span.doc[:]


def _content_bounds(span: Span) -> tuple[int, int]:
    start, end = span.start, span.end
    while start < end and (span.doc[start].is_punct or span.doc[start].is_space):
        start += 1
    while end > start and (span.doc[end - 1].is_punct or span.doc[end - 1].is_space):
        end -= 1
    return start, end


def trim(span: Span, fillers: FillerIndex) -> Span | None:
    """The span without edge fillers and stray punctuation; None when nothing is left."""
    doc = span.doc
    start, end = _content_bounds(span)
    start = _trim_start(doc, start, end, fillers.starts)
    content_end = _trim_end(doc, start, end, fillers.ends)
    if content_end < end:
        end = content_end
    else:
        # Keep the sentence's own terminal punctuation when no trailing filler was cut.
        end = span.end
        while end > start and (doc[end - 1].is_space or doc[end - 1].text not in TERMINALS):
            if not (doc[end - 1].is_punct or doc[end - 1].is_space):
                break
            end -= 1
    if not any(token.is_alpha for token in doc[start:end]):
        return None
    return doc[start:end]


def _trim_start(doc: Doc, start: int, end: int, starts: dict) -> int:
    moved = True
    while moved and start < end:
        moved = False
        for filler_end, label in sorted(starts.get(start, ()), reverse=True):
            separated = filler_end < end and doc[filler_end].is_punct
            whole = filler_end == end
            if filler_end <= end and (label == FILLER or separated or whole):
                start, moved = filler_end, True
                while start < end and (doc[start].is_punct or doc[start].is_space):
                    start += 1
                break
    return start


def _trim_end(doc: Doc, start: int, end: int, ends: dict) -> int:
    moved = True
    while moved and end > start:
        moved = False
        for filler_start, label in sorted(ends.get(end, ())):
            separated = filler_start > start and doc[filler_start - 1].is_punct
            if filler_start >= start and (label == FILLER or separated):
                end, moved = filler_start, True
                while end > start and (doc[end - 1].is_punct or doc[end - 1].is_space):
                    end -= 1
                break
    return end


@Language.factory("verbatim_segments", default_config={"patterns_path": None})
def make_segmenter(nlp: Language, name: str, patterns_path: str | None) -> Segmenter:
    """Quotable segments in doc.spans["vb_segments"], backchannel in doc.spans["vb_backchannel"]."""
    return Segmenter(nlp, Path(patterns_path) if patterns_path else FILLERS_PATH)
