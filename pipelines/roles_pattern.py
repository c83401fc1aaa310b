"""Who sounds like the seller: conversation-pattern features per speaker, scored by a logistic
model whose weights were fitted on labelled calls (benchmarks/fit_role_scorer.py)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pipelines.types import Turn

WEIGHTS_FILE = Path(__file__).parent / "data" / "role_scorer.json"
SUBSTANTIVE_WORDS = 6  # "Hello? Can you hear me?" does not open a call

_SENTENCE = re.compile(r"[^.?!]+[.?!]*")


def _phrases(*items: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w'])(?:" + "|".join(items) + r")(?![\w'])", re.IGNORECASE)


# fmt: off
_DISCOVERY = _phrases(
    r"what(?:'s| is| are| does| do| did| would| made)", r"how (?:do|does|are|is|many|much time"
    r"|often|long|did|would)", r"tell me", r"walk me through", r"who (?:else|owns|handles|is)",
    r"can you (?:share|tell|describe|walk)", r"do you (?:currently|have|use|know)",
    r"are you (?:currently|using|looking)", r"is (?:that|this) (?:something|a priority)",
    r"timeline", r"decision", r"what happens when", r"curious")
_PRICE = _phrases(
    r"\$\s?\d[\d,.]*k?", r"\d[\d,.]*\s?(?:dollars|euros|k)\b", r"per (?:seat|user|month|year"
    r"|license|rep)", r"a (?:month|year|seat)", r"pricing", r"price", r"discount", r"contract",
    r"annual(?:ly)?", r"invoice", r"licen[cs]es?", r"quote", r"proposal", r"tier", r"plan",
    r"term", r"onboarding fee", r"list price", r"paid upfront", r"billing")
_OFFER = _phrases(
    r"our (?:product|platform|tool|software|solution|app|system|customers|clients|team can"
    r"|onboarding|support team|pricing|roadmap|integration|dashboard|engineers)", r"we offer",
    r"we provide", r"we integrate", r"we support", r"we help", r"we can (?:set|have"
    r"|offer|include|give)", r"we built", r"we've built", r"customers like you",
    r"most of our", r"(?:let me|i'll|i will|i can) (?:show|share|send|walk you|pull up)",
    r"demo", r"share my screen", r"i'll send", r"free trial", r"pilot", r"case study")
_BUYER = _phrases(
    r"we (?:currently|already) (?:use|have|pay)", r"we're (?:using|on|paying|evaluating)",
    r"we use", r"our current", r"my (?:boss|manager|team|cfo|vp|director)",
    r"our (?:budget|cfo|legal|procurement|it team|security team|reps|sales team|process)",
    r"i'd (?:have|need) to (?:check|talk|run)", r"your (?:product|platform|tool|pricing"
    r"|software|app|contract)", r"you guys", r"do you (?:integrate|support|offer|have an?)",
    r"does (?:it|that|your)", r"can (?:it|your|you guys)", r"how much", r"what does it cost",
    r"we'd need", r"we need", r"we've been", r"we tried", r"our problem", r"for us")
_RUNS = _phrases(
    r"thanks? (?:you )?(?:so much )?for (?:joining|taking|making|hopping|the time)",
    r"agenda", r"next steps?", r"before we (?:get started|dive|jump)", r"let's (?:get started"
    r"|dive|jump|kick)", r"(?:calendar )?invite", r"follow[- ]up", r"does that sound",
    r"quick intro", r"recap", r"to summari[sz]e", r"i'll let you go", r"does (?:that|this) "
    r"make sense", r"any (?:other )?questions")
# fmt: on

FEATURES = ("opens", "talk_share", "question_rate", "discovery", "price", "offer", "buyer",
            "runs")  # fmt: skip


@dataclass(frozen=True)
class _Counts:
    turns: int = 0
    words: int = 0
    questions: int = 0
    discovery: int = 0
    price: int = 0
    offer: int = 0
    buyer: int = 0
    runs: int = 0

    def plus(self, text: str) -> _Counts:
        sentences = [s for s in _SENTENCE.findall(text) if s.strip()]
        asked = [s for s in sentences if s.rstrip().endswith("?")]
        stated = [s for s in sentences if not s.rstrip().endswith("?")]
        return _Counts(
            turns=self.turns + 1,
            words=self.words + len(text.split()),
            questions=self.questions + len(asked),
            discovery=self.discovery + sum(bool(_DISCOVERY.search(s)) for s in asked),
            # presenting price is stating it; asking "how much is it?" is the buyer's side
            price=self.price + sum(bool(_PRICE.search(s)) for s in stated),
            offer=self.offer + len(_OFFER.findall(text)),
            buyer=self.buyer + len(_BUYER.findall(text)),
            runs=self.runs + len(_RUNS.findall(text)),
        )


def features(turns: Sequence[Turn]) -> dict[str, tuple[float, ...]]:
    """Each speaker's features, in FEATURES order, measured against the other speakers."""
    counts: dict[str, _Counts] = {}
    for t in turns:
        counts[t.speaker] = counts.get(t.speaker, _Counts()).plus(t.text)
    opener = next((t.speaker for t in turns if len(t.text.split()) >= SUBSTANTIVE_WORDS), None)
    total_words = sum(c.words for c in counts.values()) or 1
    out = {}
    for name, mine in counts.items():
        others = [c for n, c in counts.items() if n != name]
        out[name] = (
            1.0 if name == opener else 0.0,
            mine.words / total_words - 1 / len(counts),
            *(_against(mine, others, field) for field in FEATURES[2:]),
        )
    return out


def _against(mine: _Counts, others: list[_Counts], field: str) -> float:
    """In [-1, 1]: +1 when this speaker's per-turn rate is clearly above everyone else's."""
    key = "questions" if field == "question_rate" else field
    rate = getattr(mine, key) / max(mine.turns, 1)
    other_turns = sum(o.turns for o in others)
    other = sum(getattr(o, key) for o in others) / other_turns if other_turns else 0.0
    top = max(rate, other)
    return 0.0 if top == 0 else (rate - other) / top


@dataclass(frozen=True)
class PatternModel:
    """Logistic weights over FEATURES: P(rep) = sigmoid(bias + weights . features)."""

    weights: tuple[float, ...]
    bias: float

    def p_rep(self, x: Sequence[float]) -> float:
        z = self.bias + sum(w * v for w, v in zip(self.weights, x, strict=True))
        return 1.0 / (1.0 + math.exp(-z))


@lru_cache(maxsize=1)
def fitted_model() -> PatternModel:
    """The weights shipped in pipelines/data/role_scorer.json."""
    data = json.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))
    if tuple(data["features"]) != FEATURES:
        raise ValueError(f"{WEIGHTS_FILE} was fitted on other features: refit it")
    return PatternModel(tuple(float(w) for w in data["weights"]), float(data["bias"]))


def rep_probabilities(turns: Sequence[Turn], model: PatternModel | None = None) -> dict[str, float]:
    """P(rep) for every speaker who has a turn."""
    model = model or fitted_model()
    return {name: model.p_rep(x) for name, x in features(turns).items()}
