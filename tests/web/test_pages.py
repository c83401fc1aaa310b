"""The marketer's workspace in a real browser: sign in, filter, open a cluster, copy, export,
search and jump into a call. Each page is saved to artifacts/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def _open_first_cluster(tab) -> str:
    tab.sign_in()
    link = tab.page.locator(".feed-row .cluster-label").first
    label = link.inner_text().strip()
    link.click()
    tab.page.wait_for_url(re.compile(r"/clusters/\d+$"))
    return label


def test_sign_in_redirects_back_and_out(tab):
    page, live = tab.page, tab.live
    page.goto(live.url + "/search?q=price")
    assert "/login?next=" in page.url
    tab.shot("login")
    page.fill("#api_key", "vb_not-a-real-key")
    page.click("button[type=submit]")
    assert "not valid" in page.locator(".alert").inner_text()
    page.fill("#api_key", live.key)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/search\?q=price$"))
    assert page.locator(".ws").inner_text() == "demo"
    page.click("text=Sign out")
    page.wait_for_url(live.url + "/login")
    page.goto(live.url + "/")
    assert "/login" in page.url


def test_feed_presets_put_the_filters_in_the_url(tab):
    page, live = tab.page, tab.live
    tab.sign_in()
    assert page.locator(".feed-row").count() >= 2
    # every theme row has its sparkline; a category's "other" row is a link, not a series
    themes = page.locator(".feed-row:not(.other-row)")
    assert themes.count() >= 1
    assert page.locator(".feed-row:not(.other-row) svg.spark").count() == themes.count()
    tab.shot("feed")
    page.click(".presets >> text=Lost deals")
    page.wait_for_url(re.compile(r"outcome=lost"))
    page.click(".presets >> text=Last 30 days")
    page.wait_for_url(re.compile(r"since="))
    query = _query(page.url)
    assert query["outcome"] == ["lost"] and len(query["since"]) == 1
    shared = page.url
    rows = page.locator(".feed-row")
    assert rows.count() >= 1
    lost = {a for a, outcome in live.accounts.items() if outcome == "lost"}
    for source in page.locator(".feed-row .quote-src").all_inner_texts():
        assert any(account in source for account in lost), source
    tab.shot("feed-lost-last-30-days")
    # the URL is the view: opened fresh, it shows the same filters
    page.goto(shared)
    assert page.locator("select[name=outcome]").input_value() == "lost"
    assert page.locator(".chip.active").all_inner_texts() == ["Last 30 days", "Lost deals"]
    page.select_option("select[name=sort]", "mentions")
    page.wait_for_url(re.compile(r"sort=mentions"))
    # themes are ranked within their category's section
    for section in page.locator(".category-section").all():
        counts = [int(n) for n in section.locator(".feed-row .num .strong").all_inner_texts()]
        assert counts == sorted(counts, reverse=True)
    page.click(".tabs >> text=Questions")
    page.wait_for_url(re.compile(r"kind=questions"))
    assert _query(page.url)["outcome"] == ["lost"]


def test_cluster_page_copies_a_quote_with_its_source(tab):
    page, live = tab.page, tab.live
    label = _open_first_cluster(tab)
    assert page.locator(".label-input").input_value() == label
    assert page.locator(".variant").count() >= 1
    assert page.locator(".variant-head .count").first.inner_text().endswith("×")
    first = page.locator(".quote-card").first
    quote = first.locator(".quote-text").inner_text().strip("“”")
    first.locator("button.copy").click()
    page.wait_for_selector("button.copy.copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert quote in copied
    assert "” — " in copied and re.search(r"\d+:\d\d$", copied)
    assert any(account in copied for account in live.accounts)
    context = first.locator("details.context")
    if context.count():
        context.locator("summary").click()
        assert context.locator("p").is_visible()
    tab.shot("cluster")


def test_publish_safe_masks_names_and_companies(tab):
    page, live = tab.page, tab.live
    _open_first_cluster(tab)
    page.click("a.toggle")
    page.wait_for_url(re.compile(r"safe=1"))
    assert page.locator("a.toggle").get_attribute("aria-checked") == "true"
    cards = " ".join(page.locator(".quote-card").all_inner_texts())
    for account in live.accounts:
        assert account not in cards
    page.locator(".quote-card button.copy").first.click()
    page.wait_for_selector("button.copy.copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert not any(account in copied for account in live.accounts)
    tab.shot("cluster-publish-safe")


def test_rename_a_cluster_from_its_page(tab):
    page = tab.page
    label = _open_first_cluster(tab)
    page.fill(".label-input", label + " (renamed)")
    page.click("text=Save label")
    page.wait_for_url(re.compile(r"saved=1"))
    assert page.locator(".label-input").input_value() == label + " (renamed)"
    assert page.locator(".badge", has_text="custom label").count() == 1


def test_export_a_brief_downloads_markdown(tab):
    page = tab.page
    label = _open_first_cluster(tab)
    with page.expect_download() as info:
        page.click("text=Download brief (.md)")
    download = info.value
    assert re.fullmatch(r"brief-\d+-[a-z0-9-]+\.md", download.suggested_filename)
    text = Path(download.path()).read_text(encoding="utf-8")
    assert text.startswith(f"# {label}")
    assert re.search(r"\*\*\d+ mentions\*\* in \*\*\d+ calls\*\*", text)
    assert "## The 10 best verbatim quotes" in text and "1. “" in text


def test_search_finds_quotes_by_meaning(tab):
    page = tab.page
    tab.sign_in()
    page.fill(".topsearch input", "too expensive for our budget")
    page.press(".topsearch input", "Enter")
    page.wait_for_url(re.compile(r"/search\?q=too\+expensive"))
    cards = page.locator(".quote-card")
    assert cards.count() >= 3
    scores = [float(s) for s in page.locator(".quote-card .sim").all_inner_texts()]
    assert scores == sorted(scores, reverse=True)
    top = cards.first.locator(".quote-text").inner_text().lower()
    assert re.search(r"budget|price|pric|cost|afford|expensive|money|fee|rate|number", top), top
    tab.shot("search")
    page.select_option("select[name=kind]", "objection")
    page.wait_for_url(re.compile(r"kind=objection"))


def test_call_page_jumps_to_the_quote_and_highlights_it(tab):
    page = tab.page
    _open_first_cluster(tab)
    card = page.locator(".quote-card").first
    quote = card.locator(".quote-text").inner_text().strip("“”")
    card.locator("a[href*='/calls/']").click()
    page.wait_for_url(re.compile(r"/calls/\d+#u-\d+$"))
    target = page.locator(".utt.is-target")
    assert target.count() == 1
    assert quote in target.locator("mark.hl").all_inner_texts()
    assert target.is_visible()
    assert page.locator("mark.hl").count() >= 1
    tab.shot("call", full_page=False)  # the viewport shows where the link landed
    seconds = int(page.locator(".utt[data-t]").nth(5).get_attribute("data-t"))
    page.goto(page.url.split("#")[0] + f"#t={seconds}")
    assert page.locator(".utt.is-target").get_attribute("data-t") == str(seconds)


def test_rebuild_shows_progress_until_done(tab):
    page = tab.page
    tab.sign_in()
    with page.expect_navigation(url=re.compile(r"/\?job=\d+$"), wait_until="commit"):
        page.click("text=Rebuild clusters")
    # the feed shows the job and polls it, then reloads without it once the rebuild is done
    page.wait_for_url(re.compile(r"/$"), timeout=90_000)
    assert page.locator(".notice.job").count() == 0
    assert page.locator(".feed-row").count() >= 1
