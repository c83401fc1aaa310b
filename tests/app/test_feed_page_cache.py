"""The feed page keeps its shared part in the feed cache: readers of a workspace share it, yet
each keeps their own session's bits, and a new feed version or an empty workspace is never
shown from a stale copy."""

from __future__ import annotations

import os
import re
import shutil

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from starlette.requests import Request

from app.db import session_scope
from app.services import rollups
from app.services.keys import revoke_key
from app.web import facets, templating
from app.web.deps import page_workspace
from app.web.feed import feed_view, full_page, page_shell
from app.web.feed_hits import SignedIn
from app.web.filters import FeedQuery
from models import ApiKey, Call, Cluster
from models.base import utcnow
from tests.app.factories import transcript
from tests.app.test_feed_hits import _fill, _until

SHARED = re.compile(r'<nav class="tabs".*</main>', re.DOTALL)


def _signed_in(api, headers: dict[str, str]) -> TestClient:
    client = TestClient(api.client.app, follow_redirects=False)
    page = client.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    key = headers["Authorization"].removeprefix("Bearer ")
    assert client.post("/login", data={"csrf": csrf, "api_key": key, "next": "/"}).is_redirect
    return client


def _csrf(html: str) -> set[str]:
    return set(re.findall(r'name="csrf" value="([^"]+)"', html))


def test_two_readers_share_the_feed_but_not_their_sessions(api):
    _fill(api)
    first = _signed_in(api, api.headers).get("/").text
    second = _signed_in(api, api.new_key("acme")).get("/").text
    assert "category-section" in first
    assert SHARED.search(first).group() == SHARED.search(second).group()
    mine, theirs = _csrf(first), _csrf(second)
    assert len(mine) == len(theirs) == 1 and mine != theirs


def test_other_workspaces_never_see_the_shared_part(api):
    _fill(api)
    assert "category-section" in _signed_in(api, api.headers).get("/").text
    other = _signed_in(api, api.new_key("globex")).get("/").text
    assert "category-section" not in other and "No calls yet" in other


def test_a_new_feed_version_shows_at_once(api):
    _fill(api)
    reader = _signed_in(api, api.headers)
    assert "Renamed theme" not in reader.get("/").text
    with Session(api.client.app.state.engine) as session:
        cluster = session.exec(select(Cluster).where(
            Cluster.workspace_id == api.workspace_id, Cluster.kind == "objection",
            Cluster.active.is_(True))).first()
        cluster.label = "Renamed theme"
        session.add(cluster)
        rollups.touch(session=session, workspace_id=api.workspace_id)
        session.commit()
    assert "Renamed theme" in reader.get("/").text


def test_an_empty_feed_counts_its_calls_afresh(api):
    reader = _signed_in(api, api.headers)
    assert "No calls yet" in reader.get("/").text
    posted = api.client.post("/v1/calls", headers=api.headers,
                             json=transcript("p-1", ["Too expensive for us."]))
    assert posted.status_code == 202
    assert "Calls are being processed" in reader.get("/").text


def test_the_filters_and_quick_views_follow_the_query(api):
    _fill(api)
    reader = _signed_in(api, api.headers)
    lost = reader.get("/?outcome=lost").text
    assert re.search(r'<option value="lost"\s+selected>', lost)
    assert not re.search(r'<option value="lost"\s+selected>', reader.get("/").text)
    with session_scope(api.client.app.state.engine) as session:
        rollups.touch(session=session, workspace_id=api.workspace_id)
    assert reader.get("/?outcome=lost").text.count("category-section") == \
        lost.count("category-section")


def _route_off(api) -> None:
    """From here on the page's route fails loudly: only the fast path can answer."""
    def refuse():
        raise AssertionError("the route ran")
    api.client.app.dependency_overrides[page_workspace] = refuse


def test_a_repeated_view_is_served_without_the_route(api):
    _fill(api)
    reader = _signed_in(api, api.headers)
    first = reader.get("/?sort=calls")
    _route_off(api)
    again = reader.get("/?sort=calls")
    assert again.status_code == 200 and again.text == first.text
    assert dict(again.headers) == dict(first.headers)  # security headers, Vary: Cookie
    assert again.headers["cache-control"] == "no-store"
    with pytest.raises(AssertionError, match="the route ran"):
        reader.get("/?sort=trend")  # never viewed: the route's
    with pytest.raises(AssertionError, match="the route ran"):
        reader.get("/?sort=calls&job=1")  # a rebuild's progress is read afresh


def test_a_revoked_key_signs_the_page_out_at_once(api):
    _fill(api)
    reader = _signed_in(api, api.headers)
    assert reader.get("/").status_code == 200
    assert reader.get("/").status_code == 200  # a fast-path hit
    with Session(api.client.app.state.engine) as session:
        for key in session.exec(select(ApiKey).where(
                ApiKey.workspace_id == api.workspace_id)).all():
            revoke_key(session=session, workspace_id=api.workspace_id, key_id=key.id)
    # at once on SQLite; on PostgreSQL as soon as the revocation's notification is heard
    if api.client.app.state.key_lookup.memory is None:
        assert reader.get("/").status_code == 303
    assert _until(lambda: reader.get("/").status_code == 303)
    assert reader.get("/").headers["location"].startswith("/login")


def test_a_kept_shell_is_the_templates_own_render(api):
    """The shell rendered once per query is byte for byte what the template renders for each
    request, the reader's token (escaped) in both forms."""
    _fill(api)
    query = FeedQuery(outcome="lost", sort="mentions")
    with Session(api.client.app.state.engine) as session:
        view = feed_view(session=session, workspace_id=api.workspace_id, query=query,
                         now=utcnow())
    assert view.has_sections
    request = Request({"type": "http", "method": "GET", "path": "/", "query_string": b"",
                       "headers": [], "app": api.client.app, "session": {"csrf": 'a"<&b'},
                       "state": {"workspace": SignedIn(id=api.workspace_id, name="acme & co")}})
    expected = full_page(request, query=query, view=view, progress=view.progress, job=None)
    kept = page_shell(query, view.progress, "acme & co", "/").fill('a"<&b', view.body)
    assert kept == expected
    assert expected.count(b'value="a&#34;&lt;&amp;b"') == 2  # the rebuild and sign-out forms


def _accounts_offered(html: str) -> list[str]:
    return re.findall(r'<option value="([^"]*)"', html.split('name="account"', 1)[1]
                      .split("</label>", 1)[0])


def test_many_accounts_are_typed_with_the_most_called_suggested(api, monkeypatch):
    _fill(api)
    with Session(api.client.app.state.engine) as session:
        calls = session.exec(select(Call).where(Call.workspace_id == api.workspace_id)).all()
        counts: dict[str, int] = {}
        for call in calls:
            if call.account:
                counts[call.account] = counts.get(call.account, 0) + 1
    assert len(counts) > 2
    client = _signed_in(api, api.headers)
    html = client.get("/").text
    listed = _accounts_offered(html)
    assert '<select name="account">' in html
    assert sorted(listed) == sorted([""] + list(counts))  # "All", then every account

    monkeypatch.setattr(facets, "ACCOUNT_CHOICES", 2)
    with session_scope(api.client.app.state.engine) as session:  # a view not cached yet
        rollups.touch(session=session, workspace_id=api.workspace_id)
    rare = min(counts, key=lambda a: (counts[a], a))
    html = client.get("/", params={"account": rare}).text
    assert '<datalist id="account-choices">' in html
    suggested = _accounts_offered(html)
    most = sorted(counts.values(), reverse=True)[1]
    assert len(suggested) == 2 and all(counts[a] >= most for a in suggested)
    assert f'value="{rare}"' in html  # a typed account stays in its box


def test_a_changed_static_file_is_linked_at_its_new_version(api, tmp_path, monkeypatch):
    """static_url versions a file by its mtime so that new CSS reaches browsers without a
    restart; the kept shell must not go on linking the old version."""
    _fill(api)
    static = tmp_path / "static"
    shutil.copytree(templating.STATIC_DIR, static)
    monkeypatch.setattr(templating, "STATIC_DIR", static)
    reader = _signed_in(api, api.headers)
    assert reader.get("/").status_code == 200
    assert reader.get("/").status_code == 200  # a fast-path hit
    css = static / "app.css"
    os.utime(css, (css.stat().st_atime, css.stat().st_mtime + 1000))
    page = reader.get("/").text
    assert templating.static_url("app.css") in page
