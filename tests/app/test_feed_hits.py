"""The feed's fast path and entity tags: cache hits skip the route, yet never outlive a key or a
version, and never answer a request the route has not validated."""

from __future__ import annotations

import random

import pytest
from sqlmodel import Session, select

from app.db import session_scope
from app.deps import get_workspace
from app.services import rollups
from models import ApiKey, Workspace
from models.base import utcnow
from tests.app.conftest import _api
from tests.app.test_feed_rollups import KINDS, _calls, _clusters, _mentions
from tests.app.test_metrics import _value

FEED = "/v1/feed/objections"
FILTERED = "/v1/feed/objections?outcome=lost&roles=confident&limit=5"


def _fill(api) -> None:
    """Calls, themes and mentions of every sort, summarised as a rebuild does."""
    rng = random.Random(3)
    with Session(api.client.app.state.engine) as session:
        calls = _calls(session, rng, api.workspace_id, 30)
        _mentions(session, rng, calls, _clusters(session, rng, api.workspace_id))
        for kind in KINDS:
            rollups.rebuild_kind(session=session, workspace_id=api.workspace_id, kind=kind)
        rollups.rebuild_tags(session=session, workspace_id=api.workspace_id)
        session.commit()


@pytest.fixture
def filled(api):
    _fill(api)
    return api


def _route_off(api) -> None:
    """From here on the normal route fails loudly: only the fast path can answer."""
    def refuse():
        raise AssertionError("the route ran")
    api.client.app.dependency_overrides[get_workspace] = refuse


def _get(api, path: str, **headers):
    return api.client.get(path, headers={**api.headers, **headers})


def test_a_repeated_request_is_answered_without_the_route(filled):
    first = _get(filled, FEED)
    assert first.status_code == 200 and first.json()["items"]
    _route_off(filled)
    again = _get(filled, FEED)
    assert again.status_code == 200
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    assert again.headers["content-type"] == "application/json"
    metrics = filled.client.get("/metrics").text
    assert _value(metrics, "verbatim_http_request_seconds_count", method="GET",
                  route="/v1/feed/{kind}", status="200") == 2
    with pytest.raises(AssertionError, match="the route ran"):  # never seen: the route's
        _get(filled, FEED + "?limit=3")


def test_filters_get_their_own_answers(filled):
    plain, lost = _get(filled, FEED), _get(filled, FILTERED)
    assert plain.content != lost.content and plain.headers["etag"] != lost.headers["etag"]
    _route_off(filled)
    assert _get(filled, FILTERED).content == lost.content
    assert _get(filled, FEED).content == plain.content


def test_a_matching_etag_gets_304_on_both_paths(filled):
    etag = _get(filled, FEED).headers["etag"]
    by_route = _get(filled, FEED, **{"If-None-Match": etag})  # the alias: now the fast path
    assert by_route.status_code == 304 and by_route.content == b""
    assert by_route.headers["etag"] == etag
    assert _get(filled, FEED, **{"If-None-Match": f'W/{etag}, "other"'}).status_code == 304
    assert _get(filled, FEED, **{"If-None-Match": '"other"'}).status_code == 200


def test_the_route_answers_304_too(db_url, models):
    for api in _api(db_url, models, worker_enabled=False, feed_cache_seconds=0):
        _fill(api)
        etag = _get(api, FEED).headers["etag"]
        again = _get(api, FEED, **{"If-None-Match": etag})  # computed afresh: no hit
        assert again.status_code == 304 and again.headers["etag"] == etag


def test_a_new_feed_version_is_never_served_the_old_answer(filled):
    old = _get(filled, FEED)
    with session_scope(filled.client.app.state.engine) as session:
        rollups.touch(session=session, workspace_id=filled.workspace_id)
    new = _get(filled, FEED, **{"If-None-Match": old.headers["etag"]})
    assert new.status_code == 200 and new.headers["etag"] != old.headers["etag"]
    with session_scope(filled.client.app.state.engine) as session:
        version = session.get(Workspace, filled.workspace_id).feed_version
    assert new.headers["etag"].startswith(f'"{filled.workspace_id}.{version}.')


def test_a_revoked_key_gets_401_at_once(filled):
    assert _get(filled, FEED).status_code == 200
    assert _get(filled, FEED).status_code == 200  # a fast-path hit
    with session_scope(filled.client.app.state.engine) as session:
        for key in session.exec(select(ApiKey).where(
                ApiKey.workspace_id == filled.workspace_id)).all():
            key.revoked_at = utcnow()
            session.add(key)
    gone = _get(filled, FEED)
    assert gone.status_code == 401 and gone.json()["error"] == "unauthorized"


def test_other_workspaces_keys_find_their_own_feed(filled):
    mine = _get(filled, FEED)
    theirs = filled.client.get(FEED, headers=filled.new_key("globex"))
    assert theirs.status_code == 200 and theirs.json()["items"] == []
    assert theirs.headers["etag"] != mine.headers["etag"]


def test_bad_requests_stay_errors_after_hits(filled):
    assert _get(filled, FEED).status_code == 200
    assert _get(filled, FEED + "?limit=0").status_code == 422
    assert _get(filled, FEED + "?limit=0").status_code == 422
    assert _get(filled, FEED + "?cursor=nonsense").status_code in (400, 422)
    assert filled.client.get(FEED).status_code == 401
    assert filled.client.get(FEED, headers={"Authorization": "Bearer vb_nope"}).status_code == 401
