"""The pages' pure helpers: URL state, sparklines, masking and transcript highlighting."""

from __future__ import annotations

import tracemalloc
from datetime import date, datetime, timedelta

from starlette.datastructures import QueryParams

from app.web.filters import PAGE_SIZE, FeedQuery, feed_query, presets
from app.web.masking import COMPANY_MASK, PERSON_MASK, Masker, company_variants
from app.web.sparkline import sparkline_svg, weekly_counts
from app.web.transcript import segments
from models import Mention


def test_feed_query_round_trips_through_the_url():
    params = QueryParams("kind=questions&since=2026-10-01&outcome=lost&tags=smb&tags=saas"
                         "&sort=trend&account=Acme")
    query = FeedQuery.from_params(params)
    assert (query.kind, query.outcome, query.tags) == ("questions", "lost", ("smb", "saas"))
    assert FeedQuery.from_params(QueryParams(query.url().split("?", 1)[1])) == query
    filters = query.filters()
    assert filters.since.date() == date(2026, 10, 1) and filters.outcome == "lost"


def test_feed_query_is_lenient_with_hand_edited_urls():
    query = FeedQuery.from_params(QueryParams("kind=bogus&since=yesterday&outcome=maybe"
                                              "&sort=random&limit=-3"))
    assert query == FeedQuery()
    assert query.url() == "/"


def test_the_parse_cache_does_not_keep_long_query_strings():
    """uvicorn (httptools) serves query strings of up to ~64 KB, and a parameter the feed
    ignores makes every one new: 300 of 100 KB must not stay in memory (they did: 30 MB)."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(300):
            assert feed_query(b"kind=questions&pad%d=" % i + b"a" * 100_000).kind == "questions"
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 3_000_000


def test_roles_confident_travels_in_the_url_and_reaches_the_filters():
    query = FeedQuery.from_params(QueryParams("roles=confident&kind=pains"))
    assert query.filters().confident_roles and query.filtered
    assert FeedQuery.from_params(QueryParams(query.url().split("?", 1)[1])) == query
    assert not FeedQuery.from_params(QueryParams("roles=maybe")).filters().confident_roles


def test_until_includes_the_whole_last_day():
    until = FeedQuery(until=date(2026, 11, 1)).filters().until
    assert until.date() == date(2026, 11, 1) and until.hour == 23


def test_presets_toggle_and_keep_the_other_filters():
    today = date(2026, 11, 25)
    lost = {p.label: p for p in presets(FeedQuery(account="Acme"), today)}["Lost deals"]
    assert not lost.active and "outcome=lost" in lost.url and "account=Acme" in lost.url
    query = FeedQuery(outcome="lost", since=today - timedelta(days=30))
    by_label = {p.label: p for p in presets(query, today)}
    assert by_label["Lost deals"].active and by_label["Last 30 days"].active
    assert "outcome" not in by_label["Lost deals"].url
    assert "since" not in by_label["Last 30 days"].url


def test_weekly_counts_put_the_newest_week_last():
    now = datetime(2026, 11, 25, 12)
    dates = [now - timedelta(days=d) for d in (0, 1, 6, 7, 20, 83, 84, 200)] + [None]
    counts = weekly_counts(dates, now=now)
    assert len(counts) == 12
    assert counts[-1] == 3 and counts[-2] == 1 and counts[-3] == 1 and counts[0] == 1
    assert sum(counts) == 6


def test_sparkline_is_an_accessible_inline_svg():
    svg = str(sparkline_svg([0, 1, 3, 2]))
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "0, 1, 3, 2" in svg and "<polyline" in svg and "style=" not in svg


def test_masker_hides_people_and_the_company_in_its_forms():
    mask = Masker.build(people=["Jorge Alvarez", "Tom Becker"], account="Bluewater Freight Lines",
                        domains=["bluewaterfreight.com"])
    text = mask("Jorge told Tom that Bluewater Freight Lines (bluewaterfreight.com) and "
                "Bluewater Freight pay carriers. Freight is tight.")
    assert "Jorge" not in text and "Bluewater" not in text and "bluewaterfreight" not in text
    assert text.count(PERSON_MASK) == 2 and text.count(COMPANY_MASK) == 3
    assert text.endswith("Freight is tight.")


def test_company_variants_skip_ordinary_words():
    assert company_variants("City of Millbrook") == {"City of Millbrook", "Millbrook"}
    assert "Open" not in company_variants("Open Harbor Foundation")
    assert Masker.build(people=[], account=None)("Nothing to hide.") == "Nothing to hide."


def _mention(start: int, end: int, text: str) -> Mention:
    return Mention(workspace_id=1, call_id=1, utterance_id=1, kind="objection",
                   text=text[start:end], start_char=start, end_char=end, speaker="x")


def test_segments_mark_mentions_by_offsets_and_skip_overlaps():
    text = "Honestly, it's too expensive. And slow."
    first, overlapping = _mention(10, 29, text), _mention(15, 35, text)
    parts = segments(text, [overlapping, first, _mention(34, 38, text)])
    assert "".join(p.text for p in parts) == text
    assert [p.text for p in parts if p.mention] == ["it's too expensive.", "slow"]


def test_a_limit_of_unicode_digits_falls_back_to_the_page_size():
    assert FeedQuery.from_params(QueryParams("limit=²")).limit == PAGE_SIZE
