"""The feed from summary tables equals the feed computed from every mention, on random workspaces.

Workspaces are written straight to the database (calls, mentions, themes, memberships) with
awkward values on purpose: calls without a start, blank accounts, mentions at the confidence
threshold, repeated wordings, mentions dated after `now`, themes whose members are of another
category. Summaries are built both ways the app builds them (a rebuild's full pass, then
per-call refreshes after changes) and every answer must match the reference field for field.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import delete
from sqlmodel import Session, select

from app.db import alembic_config, migrate
from app.services import rollups
from app.services.feed import FeedFilters, quote_lead
from app.services.feed_days import rebuild_days
from app.services.feed_stats import weekly_mentions
from app.services.feed_totals import TOTALS, rebuild_totals
from app.services.feed_view import feed_page
from app.services.workspaces import get_or_create_workspace
from app.web.sparkline import WEEKS, weekly_counts
from models import (
    Call,
    Cluster,
    ClusterMember,
    FeedDay,
    FeedTotal,
    Mention,
    Utterance,
    Workspace,
)
from pipelines.rank import recency_sum
from tests.app.feed_reference import reference_feed_page

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
KINDS = ("objection", "question")
CATEGORIES = ("price", "timing", "security", None)
ACCOUNTS = ("Acme", "Globex", "Initech", "", None)
TAGS = ("smb", "enterprise", "eu")
WORDINGS = ("Too expensive for us", "too  expensive for US", "We have no budget",
            "Security review takes months", "Not this quarter", "Who else uses it?",
            "Can it export to CSV?", "We already use a competitor")


def _calls(session: Session, rng: random.Random, workspace_id: int, n: int) -> list[Call]:
    calls = []
    for i in range(n):
        started = NOW - timedelta(days=rng.uniform(-3, 95), seconds=rng.randrange(86400))
        call = Call(workspace_id=workspace_id, external_id=f"c{i}", content_hash=f"h{i}",
                    raw_payload="{}", status="processed",
                    started_at=None if rng.random() < 0.15 else started,
                    created_at=started, account=rng.choice(ACCOUNTS),
                    deal_stage=rng.choice(("discovery", "demo", None)),
                    outcome=rng.choice(("won", "lost", "open", None)),
                    tags=rng.sample(TAGS, rng.randrange(len(TAGS) + 1)),
                    role_confidence=rng.choice((0.3, 0.69, 0.7, 0.95)))
        session.add(call)
        calls.append(call)
    session.flush()
    return calls


def _clusters(session: Session, rng: random.Random, workspace_id: int) -> dict[str, list[Cluster]]:
    out: dict[str, list[Cluster]] = {}
    for kind in KINDS:
        out[kind] = [Cluster(workspace_id=workspace_id, kind=kind, label=f"{kind} theme {i}",
                             category=rng.choice(CATEGORIES), keywords=["k"], active=i < 5)
                     for i in range(6)]
        session.add_all(out[kind])
    session.flush()
    return out


def _mentions(session: Session, rng: random.Random, calls: list[Call],
              clusters: dict[str, list[Cluster]]) -> None:
    for call in calls:
        utt = Utterance(workspace_id=call.workspace_id, call_id=call.id, idx=0, speaker="Jo",
                        text="...")
        session.add(utt)
        session.flush()
        for _ in range(rng.randrange(7)):
            kind = rng.choice(KINDS)
            mention = Mention(workspace_id=call.workspace_id, call_id=call.id,
                              utterance_id=utt.id, kind=kind, category=rng.choice(CATEGORIES),
                              confidence=rng.choice((0.2, 0.5, 0.49, 0.8, rng.random())),
                              text=rng.choice(WORDINGS), start_char=0, end_char=3,
                              speaker="Jo", embedding=b"\x00" * 8)
            session.add(mention)
            session.flush()
            if rng.random() < 0.65:
                cluster = rng.choice([c for c in clusters[kind] if c.active])
                sim = rng.choice((0.5, 0.9, rng.random()))
                session.add(ClusterMember(mention_id=mention.id, cluster_id=cluster.id,
                                          workspace_id=call.workspace_id, similarity=sim,
                                          lead=quote_lead(sim, mention.confidence, mention.kind)))
    session.flush()


def _summarised(session: Session, rng: random.Random, name: str,
                n_calls: int) -> tuple[Workspace, list[Call], dict[str, list[Cluster]]]:
    """A workspace of random calls, themes and mentions, summarised as a rebuild does."""
    ws = get_or_create_workspace(session=session, name=name)
    calls = _calls(session, rng, ws.id, n_calls)
    clusters = _clusters(session, rng, ws.id)
    _mentions(session, rng, calls, clusters)
    for kind in KINDS:
        rollups.rebuild_kind(session=session, workspace_id=ws.id, kind=kind)
    rollups.rebuild_tags(session=session, workspace_id=ws.id)
    session.commit()
    return ws, calls, clusters


def _random_filters(rng: random.Random) -> FeedFilters:
    return FeedFilters(
        since=NOW - timedelta(days=rng.choice((10, 45))) if rng.random() < 0.3 else None,
        until=NOW - timedelta(days=5, hours=3) if rng.random() < 0.2 else None,
        category=rng.choice(CATEGORIES) if rng.random() < 0.3 else None,
        deal_stage="demo" if rng.random() < 0.2 else None,
        outcome=rng.choice(("won", "lost", "open")) if rng.random() < 0.3 else None,
        account=rng.choice(("Acme", "Globex")) if rng.random() < 0.2 else None,
        tags=tuple(rng.sample(TAGS, rng.randrange(3))) if rng.random() < 0.3 else (),
        confident_roles=rng.random() < 0.3)


def _assert_same_answers(session: Session, rng: random.Random, workspace_id: int,
                         rounds: int) -> None:
    for i in range(rounds):
        filters = FeedFilters() if i == 0 else _random_filters(rng)
        args = {"session": session, "workspace_id": workspace_id,
                    "kind": rng.choice(("objections", "questions")), "filters": filters,
                    "sort": rng.choice(("score", "mentions", "calls", "trend")),
                    "limit": rng.choice((1, 3, 20)), "quotes": rng.choice((0, 1, 2, 5)),
                    "cursor": None, "themes": rng.choice((0, 2, 10)), "now": NOW}
        expected = reference_feed_page(**args).model_dump()
        got = feed_page(**args).model_dump()
        if got != expected:
            pytest.fail(f"{filters}: " + "\n".join(_differences(got, expected)))


def _differences(got, expected, path: str = "") -> list[str]:
    if isinstance(got, dict) and isinstance(expected, dict):
        return [d for k in expected for d in _differences(got.get(k), expected[k], f"{path}.{k}")]
    if isinstance(got, list) and isinstance(expected, list) and len(got) == len(expected):
        return [d for i, (g, e) in enumerate(zip(got, expected, strict=True))
                for d in _differences(g, e, f"{path}[{i}]")]
    return [] if got == expected else [f"{path}: {got!r} != {expected!r}"]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_rollup_feed_equals_the_row_by_row_feed(engine, seed):
    rng = random.Random(seed)
    with Session(engine) as session:
        ws, calls, _ = _summarised(session, rng, f"random-{seed}", rng.randrange(15, 45))
        _assert_same_answers(session, rng, ws.id, rounds=12)

        # then what calls do between rebuilds: mentions leave themes, roles and facts change
        for call in rng.sample(calls, 5):
            ids = session.exec(select(Mention.id).where(Mention.call_id == call.id)).all()
            session.execute(delete(ClusterMember).where(ClusterMember.mention_id.in_(ids)))
            call.role_confidence, call.outcome = 0.4, "lost"
            call.tags = ["eu"]
            session.add(call)
            rollups.refresh_call(session=session, call=call)
        session.commit()
        _assert_same_answers(session, rng, ws.id, rounds=12)


def test_a_refresh_follows_a_call_and_a_clear_empties_it(engine):
    rng = random.Random(7)
    with Session(engine) as session:
        ws = get_or_create_workspace(session=session, name="one")
        calls = _calls(session, rng, ws.id, 3)
        _mentions(session, rng, calls, _clusters(session, rng, ws.id))
        version = ws.feed_version
        for call in calls:
            rollups.refresh_call(session=session, call=call)
        session.commit()
        session.refresh(ws)
        assert ws.feed_version == version + 3
        _assert_same_answers(session, rng, ws.id, rounds=4)
        rollups.clear_call(session=session, call=calls[0])
        session.execute(delete(ClusterMember).where(ClusterMember.mention_id.in_(
            select(Mention.id).where(Mention.call_id == calls[0].id))))
        session.execute(delete(Mention).where(Mention.call_id == calls[0].id))
        session.commit()
        _assert_same_answers(session, rng, ws.id, rounds=4)


@pytest.mark.slow
def test_the_jobs_keep_the_summaries_in_step(api):
    """Through the real pipeline: processing, the rebuild it queues, a re-delivered call with
    another outcome and date, and a role correction that reprocesses a call."""
    from app.db import session_scope
    from tests.app.factories import transcript
    from tests.app.planted import planted_calls

    calls = planted_calls()
    payloads = [transcript(f"j-{i}", lines, outcome="lost" if i % 2 else "won",
                           account=f"Account {i % 3}", started_at=f"2026-11-{10 + i:02d}T10:00:00Z",
                           tags=["enterprise"] if i % 2 else ["smb"])
                for i, lines in enumerate(calls)]
    ids = [api.client.post("/v1/calls", json=p, headers=api.headers).json()["call_id"]
           for p in payloads]
    api.worker_run()

    def same() -> None:
        with session_scope(api.client.app.state.engine) as session:
            _assert_same_answers(session, random.Random(len(ids)), api.workspace_id, rounds=8)

    same()
    changed = dict(payloads[0], outcome="lost", started_at="2026-10-01T10:00:00Z",
                   tags=["eu"], utterances=payloads[0]["utterances"][:4])
    assert api.client.post("/v1/calls", json=changed, headers=api.headers).status_code == 202
    same()  # queued again: its old mentions are gone from the feed at once
    api.worker_run()
    same()
    r = api.client.post(f"/v1/calls/{ids[1]}/roles/swap", headers=api.headers)
    assert r.status_code < 300, r.text
    api.worker_run()
    same()


@pytest.mark.parametrize("outcome", [None, "lost"])
def test_weekly_counts_from_summaries_equal_the_mentions_dates(engine, outcome):
    """The sparklines' weeks, summed in the database, against each member mention's call date."""
    rng = random.Random(11)
    with Session(engine) as session:
        ws = get_or_create_workspace(session=session, name="weeks")
        calls = _calls(session, rng, ws.id, 40)
        clusters = _clusters(session, rng, ws.id)
        _mentions(session, rng, calls, clusters)
        rollups.rebuild_kind(session=session, workspace_id=ws.id, kind="objection")
        session.commit()
        ids = [c.id for c in clusters["objection"]]
        got = weekly_mentions(session=session, workspace_id=ws.id, kind="objection",
                              filters=FeedFilters(outcome=outcome), cluster_ids=ids, now=NOW,
                              weeks=WEEKS)
        dates = _member_call_dates(session, outcome)
    for cid in ids:
        assert got[cid] == weekly_counts(dates.get(cid, []), now=NOW, weeks=WEEKS), cid
    assert sum(map(sum, got.values())) > 0


def _kept(session: Session, workspace_id: int) -> dict[tuple, tuple]:
    """Every feed_total row of the workspace, by group; weights rounded (sums of floats)."""
    rows = session.exec(select(FeedTotal).where(FeedTotal.workspace_id == workspace_id)).all()
    kept = {}
    for t in rows:
        key = (t.kind, t.cluster_id, t.category)
        assert key not in kept, f"two rows for {key}"
        kept[key] = (*(getattr(t, f) for f in TOTALS if f != "recency_weight"),
                     t.other_mentions, t.other_calls, t.recency_weight)
    return kept


def _days(session: Session, workspace_id: int) -> dict[tuple, tuple]:
    """Every feed_day row of the workspace, by group and day."""
    rows = session.exec(select(FeedDay).where(FeedDay.workspace_id == workspace_id)).all()
    days = {}
    for d in rows:
        key = (d.kind, d.cluster_id, d.category, d.day)
        assert key not in days, f"two rows for {key}"
        days[key] = (d.mentions, d.confident, d.recency_weight)
    return days


def _assert_kept_equals_recount(session: Session, workspace_id: int, step: str) -> None:
    """feed_total and feed_day, moved by each change, equal a count afresh."""
    kept, days = _kept(session, workspace_id), _days(session, workspace_id)
    with session.begin_nested() as savepoint:
        for kind in KINDS:
            rebuild_totals(session=session, workspace_id=workspace_id, kind=kind)
            rebuild_days(session=session, workspace_id=workspace_id, kind=kind)
        recount, recount_days = _kept(session, workspace_id), _days(session, workspace_id)
        savepoint.rollback()
    assert kept.keys() == recount.keys(), step
    assert days.keys() == recount_days.keys(), step
    for key, values in [*recount.items(), *recount_days.items()]:
        moved = kept[key] if key in kept else days[key]
        assert moved[:-1] == values[:-1], f"{step}: {key}"
        # stored weights grow with time (pipelines/rank.py): compared as the recency they make
        assert recency_sum(moved[-1], 0, now=NOW) == pytest.approx(
            recency_sum(values[-1], 0, now=NOW), rel=1e-9, abs=1e-9), f"{step}: {key}"


@pytest.mark.parametrize("seed", [21, 22, 23, 24])
def test_kept_totals_equal_a_recount_after_random_changes(engine, seed):
    """Calls move between themes and categories, change account, outcome and date (some after
    `now`), gain and lose mentions, are cleared and refreshed again unchanged: feed_total and
    the day buckets, moved by each call's part, must equal a recount after every step."""
    rng = random.Random(seed)
    with Session(engine) as session:
        ws, calls, clusters = _summarised(session, rng, f"kept-{seed}", rng.randrange(8, 16))
        for step in range(60):
            call = rng.choice(calls)
            mentions = session.exec(select(Mention).where(Mention.call_id == call.id)).all()
            op = rng.choice(("move", "facts", "confidence", "mentions", "clear", "same"))
            if op == "move" and mentions:
                for m in rng.sample(mentions, rng.randrange(1, len(mentions) + 1)):
                    session.execute(delete(ClusterMember).where(ClusterMember.mention_id == m.id))
                    if rng.random() < 0.7:
                        cluster = rng.choice([c for c in clusters[m.kind] if c.active])
                        session.add(ClusterMember(mention_id=m.id, cluster_id=cluster.id,
                                                  workspace_id=ws.id, similarity=0.5,
                                                  lead=quote_lead(0.5, m.confidence, m.kind)))
                    if rng.random() < 0.3:
                        m.category = rng.choice(CATEGORIES)
                        session.add(m)
            elif op == "facts":
                call.account = rng.choice(ACCOUNTS)
                call.outcome = rng.choice(("won", "lost", "open", None))
                call.started_at = NOW - timedelta(days=rng.uniform(-3, 95))
                session.add(call)
            elif op == "confidence":
                for m in mentions:
                    m.confidence = rng.choice((0.2, 0.8))
                    session.add(m)
            elif op == "mentions":
                ids = [m.id for m in mentions if rng.random() < 0.5]
                session.execute(delete(ClusterMember).where(ClusterMember.mention_id.in_(ids)))
                session.execute(delete(Mention).where(Mention.id.in_(ids)))
                _mentions(session, rng, [call], clusters)
            elif op == "clear":
                rollups.clear_call(session=session, call=call)
                session.commit()
                _assert_kept_equals_recount(session, ws.id, f"{step} clear")
            session.flush()
            rollups.refresh_call(session=session, call=call)
            session.commit()
            _assert_kept_equals_recount(session, ws.id, f"{step} {op}")


def test_a_call_dated_years_ahead_leaves_the_others_recency_alone(engine):
    """A stored weight doubles every half-life, so a date typed decades ahead weighs more than
    every other call's together: the feed must not lose the others' recency to it, neither
    while it is there nor once the call is re-dated."""
    rng = random.Random(5)
    with Session(engine) as session:
        ws, calls, _ = _summarised(session, rng, "far-ahead", 12)
        typo = next(c for c in calls if session.exec(select(Mention.id).where(
            Mention.call_id == c.id)).first())
        for mention in session.exec(select(Mention).where(Mention.call_id == typo.id)):
            mention.confidence = 0.99
            session.add(mention)
        typo.started_at = NOW.replace(year=2062)
        session.add(typo)
        rollups.refresh_call(session=session, call=typo)
        session.commit()
        for kind in KINDS:
            _assert_same_feed(session, ws.id, f"{kind}s")
        typo.started_at = NOW - timedelta(days=2)
        session.add(typo)
        rollups.refresh_call(session=session, call=typo)
        session.commit()
        _assert_kept_equals_recount(session, ws.id, "re-dated")
        for kind in KINDS:
            _assert_same_feed(session, ws.id, f"{kind}s")


def _assert_same_feed(session: Session, workspace_id: int, kind: str) -> None:
    """The feed, unfiltered (kept totals) and filtered (summed rows), equals the row-by-row one."""
    for filters in (FeedFilters(), FeedFilters(since=NOW - timedelta(days=400))):
        args = {"session": session, "workspace_id": workspace_id, "kind": kind,
                "filters": filters, "sort": "score", "limit": 20, "quotes": 0, "cursor": None,
                "themes": 10, "now": NOW}
        got, expected = feed_page(**args).model_dump(), reference_feed_page(**args).model_dump()
        assert got == expected, "\n".join(_differences(got, expected))


def _leads(session: Session, workspace_id: int) -> dict[int, float]:
    """Every theme member's lead, by mention."""
    return {m.mention_id: m.lead for m in session.exec(select(ClusterMember).where(
        ClusterMember.workspace_id == workspace_id))}


@pytest.mark.parametrize("before, read", [("0001", _kept), ("0002", _days), ("0003", _leads)],
                         ids=["totals", "days", "leads"])
def test_upgrading_fills_what_a_revision_adds_from_the_summaries_a_database_holds(engine, before,
                                                                                  read):
    """Revision 0002 brings feed_total, 0003 the day buckets and 0004 the members' leads to
    databases that already hold summaries and members without them: the upgrade fills them as a
    rebuild would."""
    rng = random.Random(int(before) + 10)
    with Session(engine) as session:
        ws, _, _ = _summarised(session, rng, f"before-{before}", 20)
        filled = read(session, ws.id)
    assert filled
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), before)  # the new table gone, summaries kept
    migrate(engine)
    with Session(engine) as session:
        assert read(session, ws.id) == filled


def test_quotes_are_read_deeper_while_a_theme_repeats_one_wording(engine):
    """A theme whose 60 most representative members say the same thing: its quotes are read
    past the first window until they hold enough wordings, its unsure members' too, and equal
    the row-by-row feed's, for each number of quotes asked."""
    rng = random.Random(3)
    with Session(engine) as session:
        ws = get_or_create_workspace(session=session, name="deep")
        call = _calls(session, rng, ws.id, 1)[0]
        theme = Cluster(workspace_id=ws.id, kind="objection", label="price", category="price",
                        keywords=["k"])
        utt = Utterance(workspace_id=ws.id, call_id=call.id, idx=0, speaker="Jo", text="...")
        session.add_all([theme, utt])
        session.flush()
        for i in range(80):
            repeated = i < 60
            mention = Mention(workspace_id=ws.id, call_id=call.id, utterance_id=utt.id,
                              kind="objection", category="price",
                              confidence=0.95 if i < 70 else 0.3,
                              text=WORDINGS[0] if repeated else f"{WORDINGS[i % 8]} {i}",
                              start_char=0, end_char=3, speaker="Jo", embedding=b"\x00" * 8)
            session.add(mention)
            session.flush()
            sim = 0.9 if repeated else 0.5
            session.add(ClusterMember(mention_id=mention.id, cluster_id=theme.id,
                                      workspace_id=ws.id, similarity=sim,
                                      lead=quote_lead(sim, mention.confidence, mention.kind)))
        session.flush()
        rollups.rebuild_kind(session=session, workspace_id=ws.id, kind="objection")
        session.commit()
        for quotes in (5, 20, 50):
            args = {"session": session, "workspace_id": ws.id, "kind": "objections",
                    "filters": FeedFilters(), "sort": "score", "limit": 20, "quotes": quotes,
                    "cursor": None, "themes": 10, "now": NOW}
            got = feed_page(**args).model_dump()
            assert got == reference_feed_page(**args).model_dump(), quotes
            assert len(got["items"][0]["quotes"]) == min(quotes, 21)


@pytest.mark.parametrize("now", [NOW.replace(hour=0), NOW.replace(hour=0) - timedelta(microseconds=1),
                                 NOW + timedelta(hours=11, minutes=59)])
def test_windows_and_weeks_from_day_buckets_hold_at_any_time_of_day(engine, now):
    """Calls dated exactly on a window's or a week's edge, and a microsecond either side: the
    feed and the sparklines read from day buckets equal the row-by-row ones, whatever the time
    of day `now` falls at."""
    rng = random.Random(17)
    with Session(engine) as session:
        edges = [now - timedelta(days=days) for days in (0, 30, 60, *range(7, 85, 7))]
        ws, calls, clusters = _summarised(session, rng, "edges", 3 * len(edges))
        for i, call in enumerate(calls):  # each edge: a call before it, one on it, one after
            call.started_at = edges[i % len(edges)] + timedelta(microseconds=i // len(edges) - 1)
            session.add(call)
            for mention in session.exec(select(Mention).where(Mention.call_id == call.id)):
                mention.confidence = 0.95  # counted, so that a window's edge tells
                session.add(mention)
            rollups.refresh_call(session=session, call=call)
        session.commit()
        assert_trend_and_weeks_equal_the_rows(session, ws.id, clusters, now, quotes=0)


def assert_trend_and_weeks_equal_the_rows(session: Session, workspace_id: int, clusters: dict,
                                          now: datetime, quotes: int) -> None:
    """The feed sorted by trend and the objection themes' sparklines, read from the summaries,
    equal the row-by-row ones at `now`."""
    for kind in KINDS:
        args = {"session": session, "workspace_id": workspace_id, "kind": f"{kind}s",
                "filters": FeedFilters(), "sort": "trend", "limit": 20, "quotes": quotes,
                "cursor": None, "themes": 10, "now": now}
        got, expected = feed_page(**args).model_dump(), reference_feed_page(**args).model_dump()
        assert got == expected, "\n".join(_differences(got, expected))
    ids = [c.id for c in clusters["objection"]]
    weeks = weekly_mentions(session=session, workspace_id=workspace_id, kind="objection",
                            filters=FeedFilters(), cluster_ids=ids, now=now, weeks=WEEKS)
    dates = _member_call_dates(session)
    for cid in ids:
        assert weeks[cid] == weekly_counts(dates.get(cid, []), now=now, weeks=WEEKS), cid


def _member_call_dates(session: Session, outcome: str | None = None) -> dict[int, list[datetime]]:
    """Each objection theme's member mentions' call dates (of calls with that outcome, if any),
    read row by row: what its sparkline counts."""
    rows = session.exec(select(ClusterMember.cluster_id, Call)
                        .join(Mention, Mention.id == ClusterMember.mention_id)
                        .join(Call, Call.id == Mention.call_id)
                        .where(Mention.kind == "objection")).all()
    dates: dict[int, list[datetime]] = {}
    for cid, call in rows:
        if outcome in (None, call.outcome):
            dates.setdefault(cid, []).append(rollups.call_time(call.started_at, call.created_at))
    return dates
