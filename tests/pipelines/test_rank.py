from datetime import datetime, timedelta

from pipelines.rank import MentionStat, explain, order, score_cluster, score_clusters

NOW = datetime(2026, 11, 25)


def _stat(cluster, call, days_ago, outcome="open", account=None):
    return MentionStat(cluster, call, account or f"acct-{call}", NOW - timedelta(days=days_ago),
                       outcome)


def test_more_calls_outrank_repeated_mentions_in_one_call():
    spread = [_stat(1, c, 5) for c in range(5)]
    repeated = [_stat(2, 99, 5) for _ in range(5)]
    scores = score_clusters(spread + repeated, now=NOW)
    assert scores[1].mentions == scores[2].mentions == 5
    assert scores[1].calls == 5 and scores[2].calls == 1
    assert order(scores) == [1, 2]


def test_recent_beats_old_and_trend_is_last_30_vs_prior_30():
    recent = [_stat(1, c, 3) for c in range(4)]
    old = [_stat(2, c + 10, 45) for c in range(4)]
    scores = score_clusters(recent + old, now=NOW)
    assert scores[1].recent == 4 and scores[1].previous == 0 and scores[1].trend > 0
    assert scores[2].recent == 0 and scores[2].previous == 4 and scores[2].trend < 0
    assert order(scores) == [1, 2]
    assert order(scores, "trend") == [1, 2]


def test_lost_deal_lift_is_smoothed():
    p0 = 0.5
    two_lost = score_cluster([_stat(1, 1, 1, "lost"), _stat(1, 2, 1, "lost")], now=NOW, p0=p0)
    ten_lost = score_cluster([_stat(1, c, 1, "lost") for c in range(10)], now=NOW, p0=p0)
    assert 0 < two_lost.deal_lift < ten_lost.deal_lift < 1
    undecided = score_cluster([_stat(1, 1, 1, "open")], now=NOW, p0=p0)
    assert undecided.deal_lift == 0


def test_emerging_flag_needs_new_growth_across_calls():
    new = [_stat(1, c, 2) for c in range(3)]
    assert score_cluster(new, now=NOW, p0=0.0).emerging
    steady = new + [_stat(1, 9, 40)]
    assert not score_cluster(steady, now=NOW, p0=0.0).emerging


def test_order_is_stable_on_ties():
    rows = [_stat(7, 1, 1), _stat(3, 2, 1)]
    assert order(score_clusters(rows, now=NOW)) == [3, 7]


def test_equal_scores_go_by_mentions_shown_then_id():
    # two themes with no confident mention score alike; the one raised more often comes first
    scores = score_clusters([_stat(7, 1, 1), _stat(3, 2, 1)], now=NOW)
    assert order(scores, shown={7: 12, 3: 4}) == [7, 3]
    assert order(scores, shown={7: 4, 3: 4}) == [3, 7]


def test_a_theme_without_confident_mentions_says_why_it_ranks_low():
    why = explain(score_cluster([], now=NOW, p0=0.0), 12)
    assert "none of its 12 mentions is a confident objection" in why
    assert why.startswith("Ranked after every theme with a confident mention")
