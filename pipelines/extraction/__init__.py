"""Objection, question and pain extraction from customer turns, as exact quotes.

The files read in data-flow order:
  step1_segments.py   cut a turn into quotable sentences, trimmed of edge fillers
  step2_cues.py       mark objection / topic / neutral / pain cue words (SpanRuler + data file)
  step3_polarity.py   sort cues into kept, negated ("price isn't an issue") and hedged
  step4_features.py   rule features and prototype similarities per segment
  step5_model.py      the learned model: calibrated objection confidence and category
  step5_transformer.py  its third input: MiniLM fine-tuned on (segment, rep turn) pairs
  step6_narrowing.py  narrow an objection to the clause that states it
  step7_extractor.py  the Extractor that runs all of it and returns mentions
Beside them: taxonomy.py (categories and prototypes a workspace can extend), prototypes.py,
reference_sentences.py, key_phrases.py, rule_scorers.py (pain scorer, question topics, the old
objection baseline), screened_matcher.py (the token patterns of steps 1 and 2, tried only where
their words are), data/ (patterns, fillers, the trained model) and training/ (labels, splits,
`make train-extractor`).
"""

from pipelines.extraction.step5_model import feed_threshold
from pipelines.extraction.step7_extractor import Extractor, ScoredSegment, add_components

__all__ = ["Extractor", "ScoredSegment", "add_components", "feed_threshold"]
