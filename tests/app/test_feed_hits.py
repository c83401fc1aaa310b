"""The feed's fast path and entity tags: cache hits skip the route, yet never outlive a key or a
version, and never answer a request the route has not validated."""

from __future__ import annotations

import random
import threading
import time

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.db import session_scope
from app.deps import get_workspace
from app.feed_hits import Memory
from app.feed_signals import hear_locally, stop_hearing_locally
from app.main import create_app
from app.services import rollups
from app.services.keys import revoke_key
from app.services.workspaces import create_api_key, get_or_create_workspace
from app.settings import Settings
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
    """At once on SQLite; on PostgreSQL as soon as the revocation's notification is heard."""
    assert _get(filled, FEED).status_code == 200
    assert _get(filled, FEED).status_code == 200  # a fast-path hit
    with Session(filled.client.app.state.engine) as session:
        for key in session.exec(select(ApiKey).where(
                ApiKey.workspace_id == filled.workspace_id)).all():
            revoke_key(session=session, workspace_id=filled.workspace_id, key_id=key.id)
    memory = filled.client.app.state.key_lookup.memory
    if memory is None:
        assert _get(filled, FEED).status_code == 401
    assert _until(lambda: _get(filled, FEED).status_code == 401)
    assert _get(filled, FEED).json()["error"] == "unauthorized"


def test_a_key_revoked_behind_the_apps_back_is_refused_within_the_memory_age(filled):
    assert _get(filled, FEED).status_code == 200
    with session_scope(filled.client.app.state.engine) as session:  # SQL by hand: no notification
        for key in session.exec(select(ApiKey).where(
                ApiKey.workspace_id == filled.workspace_id)).all():
            key.revoked_at = utcnow()
            session.add(key)
    assert _until(lambda: _get(filled, FEED).status_code == 401,
                  seconds=Memory.MAX_AGE_SECONDS + 5)


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


def test_the_key_lookup_never_waits_for_the_apps_pool(api):
    """Its connection is its own: with every pooled connection checked out it still answers
    (one taken from the pool would wait out the pool's timeout, then miss)."""
    engine = api.client.app.state.engine
    held = [engine.connect() for _ in range(engine.pool.size() + engine.pool._max_overflow)]
    try:
        lookup = api.client.app.state.key_lookup
        lookup.close()  # a fresh connection must be made while the pool is exhausted
        token = api.headers["Authorization"].removeprefix("Bearer ")
        found = lookup.find(token)
    finally:
        for conn in held:
            conn.close()
    assert found is not None and found[0] == api.workspace_id


def test_an_in_memory_database_has_no_second_connection_to_lose(models):
    app = create_app(Settings(database_url="sqlite://", worker_enabled=False), models=models)
    with TestClient(app) as client:
        assert app.state.key_lookup is None  # a lookup connection would open an empty database
        with session_scope(app.state.engine) as session:
            key = create_api_key(session=session,
                                 workspace=get_or_create_workspace(session=session, name="m"))
        for _ in range(2):
            assert client.get(FEED, headers={"Authorization": f"Bearer {key}"}).status_code == 200


def _until(condition, seconds: float = 10.0) -> bool:
    """Waits for a notification to arrive (no timing is asserted: only that it arrives)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return False


@pytest.fixture
def listening(api):
    lookup = api.client.app.state.key_lookup
    if lookup is None or lookup.memory is None:
        pytest.skip("PostgreSQL only: SQLite has no notifications and asks every time")
    assert _until(lookup.memory.listening)
    return lookup


def test_on_postgresql_a_remembered_key_costs_no_query(api, listening, monkeypatch):
    token = api.headers["Authorization"].removeprefix("Bearer ")
    found = listening.find(token)
    assert found is not None

    def no_query(*_):
        raise AssertionError("the database was asked")

    monkeypatch.setattr(listening, "_one", no_query)
    assert listening.find(token) == found


def test_on_postgresql_a_new_version_and_a_revoked_key_are_heard(api, listening):
    token = api.headers["Authorization"].removeprefix("Bearer ")
    workspace_id, version = listening.find(token)
    with session_scope(api.client.app.state.engine) as session:
        rollups.touch(session=session, workspace_id=workspace_id)
    assert _until(lambda: listening.find(token) == (workspace_id, version + 1))
    with Session(api.client.app.state.engine) as session:
        key = session.exec(select(ApiKey).where(ApiKey.workspace_id == workspace_id)).first()
        revoke_key(session=session, workspace_id=workspace_id, key_id=key.id)
    assert _until(lambda: listening.find(token) is None)


def test_a_change_rolled_back_is_never_heard(api, listening):
    token = api.headers["Authorization"].removeprefix("Bearer ")
    workspace_id, version = listening.find(token)
    memory = listening.memory
    stop_hearing_locally(memory)  # count only what the listener hears
    try:
        generation = memory.recall("anything")[1]
        with Session(api.client.app.state.engine) as session:
            rollups.touch(session=session, workspace_id=workspace_id)
            session.rollback()
        with session_scope(api.client.app.state.engine) as session:  # a marker that does commit
            rollups.touch(session=session, workspace_id=workspace_id)
        assert _until(lambda: memory.recall("anything")[1] != generation)
        assert listening.find(token) == (workspace_id, version + 1)
        assert memory.recall("anything")[1] == generation + 1  # one notification, not two
    finally:
        hear_locally(memory)


def test_this_processs_own_commit_is_forgotten_before_it_returns(api, listening, monkeypatch):
    """No wait for the notification: the same client's next read must see its own change."""
    workspace_id, _ = listening.find(api.headers["Authorization"].removeprefix("Bearer "))
    forgotten = []
    monkeypatch.setattr(listening.memory, "forget",
                        lambda w: forgotten.append((w, threading.current_thread().name)))
    with session_scope(api.client.app.state.engine) as session:
        rollups.touch(session=session, workspace_id=workspace_id)
        assert forgotten == []  # nothing before the commit
    assert (workspace_id, threading.current_thread().name) in forgotten


def test_a_row_read_while_a_notification_arrived_is_not_kept(api, listening):
    memory = listening.memory
    _, generation = memory.recall("k")
    memory.forget(999)  # a notification about any workspace, during the read
    memory.keep("k", (1, 0, "acme"), generation)
    assert memory.recall("k")[0] is None
