"""Rank clusters by what matters to marketing: volume, spread, recency, trend and deal impact.

score = base x recency_factor x trend_factor x deal_factor, where
  base          = ln(1+mentions) + ln(1+calls) + 0.5*ln(1+accounts)
  recency_factor= 0.5 + mean(0.5 ** (age_days / 30))          (0.5 .. 1.5; half-life 30 days)
  trend         = ln((recent+1) / (previous+1))               (last 30 days vs the 30 before)
  trend_factor  = 1 + 0.25 * clip(trend, -1, 1)
  lost_share    = (lost + K*p0) / (lost + won + K)            (smoothed toward the workspace rate p0)
  deal_lift     = lost_share / p0 - 1                          (0 when no deal is decided)
  deal_factor   = 1 + 0.5 * clip(deal_lift, -1, 1)
Smoothing (K = 5 pseudo-calls) keeps a cluster with two lost calls from outranking a broad one.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

WINDOW_DAYS = 30
HALF_LIFE_DAYS = 30.0
SMOOTHING_CALLS = 5.0


@dataclass(frozen=True)
class MentionStat:
    cluster_id: int
    call_id: int
    account: str | None
    when: datetime | None
    outcome: str | None


@dataclass(frozen=True)
class Score:
    mentions: int
    calls: int
    accounts: int
    recent: int
    previous: int
    trend: float
    recency: float
    lost_calls: int
    won_calls: int
    lost_share: float
    deal_lift: float
    score: float
    emerging: bool


def _age_days(now: datetime, when: datetime | None) -> float | None:
    return None if when is None else max(0.0, (now - when).total_seconds() / 86400.0)


def baseline_lost_share(stats: Iterable[MentionStat]) -> float:
    """Share of decided calls (won or lost) that were lost, over all calls seen."""
    outcome = {s.call_id: s.outcome for s in stats}
    lost = sum(1 for o in outcome.values() if o == "lost")
    won = sum(1 for o in outcome.values() if o == "won")
    return lost / (lost + won) if lost + won else 0.0


@dataclass(frozen=True)
class Totals:
    """What a score is made of, counted over a group's (confident) mentions."""

    mentions: int
    calls: int
    accounts: int
    recent: int
    previous: int
    recency_sum: float  # sum of 0.5 ** (age_days / HALF_LIFE_DAYS) over mentions with a date
    dated: int  # mentions with a date
    lost_calls: int
    won_calls: int


def totals_of(rows: list[MentionStat], *, now: datetime) -> Totals:
    ages = [_age_days(now, r.when) for r in rows]
    known = [a for a in ages if a is not None]
    calls = {r.call_id: r.outcome for r in rows}
    return Totals(
        mentions=len(rows), calls=len(calls), accounts=len({r.account for r in rows if r.account}),
        recent=sum(1 for a in known if a < WINDOW_DAYS),
        previous=sum(1 for a in known if WINDOW_DAYS <= a < 2 * WINDOW_DAYS),
        recency_sum=sum(0.5 ** (a / HALF_LIFE_DAYS) for a in known), dated=len(known),
        lost_calls=sum(1 for o in calls.values() if o == "lost"),
        won_calls=sum(1 for o in calls.values() if o == "won"))


def score_cluster(rows: list[MentionStat], *, now: datetime, p0: float) -> Score:
    return score_totals(totals_of(rows, now=now), p0=p0)


def score_totals(t: Totals, *, p0: float) -> Score:
    recency = t.recency_sum / t.dated if t.dated else 0.5
    lost, won = t.lost_calls, t.won_calls
    if p0 > 0 and lost + won:
        lost_share = (lost + SMOOTHING_CALLS * p0) / (lost + won + SMOOTHING_CALLS)
        lift = lost_share / p0 - 1.0
    else:
        lost_share, lift = (lost / (lost + won) if lost + won else 0.0), 0.0
    trend = math.log((t.recent + 1) / (t.previous + 1))
    base = math.log1p(t.mentions) + math.log1p(t.calls) + 0.5 * math.log1p(t.accounts)
    score = base * (0.5 + recency) * (1 + 0.25 * _clip(trend)) * (1 + 0.5 * _clip(lift))
    emerging = t.previous == 0 and t.recent >= 3 and t.calls >= 2
    return Score(
        mentions=t.mentions,
        calls=t.calls,
        accounts=t.accounts,
        recent=t.recent,
        previous=t.previous,
        trend=round(trend, 4),
        recency=round(recency, 4),
        lost_calls=lost,
        won_calls=won,
        lost_share=round(lost_share, 4),
        deal_lift=round(lift, 4),
        score=round(score, 4),
        emerging=emerging,
    )


# Recency from stored sums: 0.5 ** (age / half-life) = 0.5 ** ((now - origin) / half-life)
# x 2 ** ((when - origin) / half-life), so a summary row can hold the second factor, summed over
# its mentions, and a request multiplies by the first. Ages are never negative: a mention dated
# after `now` weighs 1 and is counted apart.
RECENCY_ORIGIN = datetime(2020, 1, 1, tzinfo=UTC)
_HALF_LIFE_SECONDS = HALF_LIFE_DAYS * 86400.0


def recency_weight(when: datetime) -> float:
    """The stored factor of a mention made at `when` (aware)."""
    return 2.0 ** ((when - RECENCY_ORIGIN).total_seconds() / _HALF_LIFE_SECONDS)


def recency_sum(weights: float, future: int, *, now: datetime) -> float:
    """Sum of 0.5 ** (age / half-life) from the stored weights of mentions dated up to `now`
    and the count of those dated after it."""
    return 0.5 ** ((now - RECENCY_ORIGIN).total_seconds() / _HALF_LIFE_SECONDS) * weights + future


def score_clusters(
    stats: Iterable[MentionStat], *, now: datetime, p0: float | None = None
) -> dict[int, Score]:
    rows = list(stats)
    p0 = baseline_lost_share(rows) if p0 is None else p0
    by_cluster: dict[int, list[MentionStat]] = defaultdict(list)
    for r in rows:
        by_cluster[r.cluster_id].append(r)
    return {cid: score_cluster(rs, now=now, p0=p0) for cid, rs in by_cluster.items()}


SORTS = {
    "score": lambda s: s.score,
    "mentions": lambda s: s.mentions,
    "calls": lambda s: s.calls,
    "trend": lambda s: (s.trend, s.recent),
}


def order(scores: dict[int, Score], sort: str = "score",
          shown: dict[int, int] | None = None) -> list[int]:
    """Cluster ids best first; equal scores by mentions shown (more first), then by id.

    Only confident mentions score, so while the extractor is unsure of most of a workspace's
    mentions many themes score alike (all zero in the extreme): among them, a theme twelve
    customers raised still comes before one raised three times.
    """
    key, shown = SORTS[sort], shown or {}
    return sorted(scores, key=lambda cid: (key(scores[cid]), shown.get(cid, 0), -cid),
                  reverse=True)


def _clip(x: float, lo: float = -1.0, hi: float = 1.0) -> float:
    return max(lo, min(hi, x))


def explain(score: Score, shown: int) -> str:
    """Why an item ranks where it does, in one sentence built from its score components."""
    if score.mentions == 0:
        return (f"Ranked after every theme with a confident mention: none of its "
                f"{_n(shown, 'mention')} is a confident objection yet (such themes go by how "
                f"many mentions they have).")
    parts = [f"{_n(score.mentions, 'confident mention')} in {_n(score.calls, 'call')}"
             + (f" from {_n(score.accounts, 'account')}" if score.accounts else "")]
    if score.recent or score.previous:
        direction = ("rising" if score.trend > 0 else "falling" if score.trend < 0 else "steady")
        parts.append(f"{score.recent} in the last {WINDOW_DAYS} days vs {score.previous} "
                     f"before ({direction})")
    else:
        parts.append(f"none in the last {2 * WINDOW_DAYS} days")
    decided = score.lost_calls + score.won_calls
    if decided:
        lift = round(100 * score.deal_lift)
        parts.append(f"came up in {score.lost_calls} lost and {score.won_calls} won "
                     f"{'deal' if decided == 1 else 'deals'} (loss rate "
                     f"{'+' if lift >= 0 else ''}{lift}% vs the workspace's)")
    if shown > score.mentions:
        parts.append(f"{shown - score.mentions} less certain mentions shown, not counted")
    return "; ".join(parts) + "."


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
