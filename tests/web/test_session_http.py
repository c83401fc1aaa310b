"""Sign-in, the session cookie, CSRF and workspace isolation of the pages, over plain HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.main import create_app
from app.settings import Settings
from models import Call, Cluster, Participant, RoleCorrection, Workspace

pytestmark = pytest.mark.slow


def _client(live, models, base_url: str) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=live.db_url, worker_enabled=False,
                              session_secret="web-tests"), models=models)
    with TestClient(app, base_url=base_url, follow_redirects=False) as client:
        yield client


@pytest.fixture
def client(live, models) -> Iterator[TestClient]:
    yield from _client(live, models, "http://testserver")


@pytest.fixture
def https_client(live, models) -> Iterator[TestClient]:
    yield from _client(live, models, "https://testserver")


def _csrf(client: TestClient, path: str = "/login") -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def _sign_in(client: TestClient, key: str, next_url: str = "/"):
    return client.post("/login", data={"api_key": key, "csrf": _csrf(client),
                                       "next": next_url})


def _demo_ids(client: TestClient) -> tuple[int, int]:
    with Session(client.app.state.engine) as session:
        demo = session.exec(select(Workspace).where(Workspace.name == "demo")).one()
        cluster_id = session.exec(select(Cluster.id).where(
            Cluster.workspace_id == demo.id, Cluster.active.is_(True))).first()
        call_id = session.exec(select(Call.id).where(Call.workspace_id == demo.id)).first()
    assert cluster_id and call_id
    return cluster_id, call_id


@pytest.mark.parametrize("path", ["/", "/clusters/1", "/calls/1", "/search?q=price",
                                  "/export/clusters.csv", "/web/jobs/1"])
def test_signed_out_pages_redirect_to_login(client, path):
    r = client.get(path)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=%2F")


def test_session_cookie_is_signed_http_only_and_lax_without_the_key(client, live):
    r = _sign_in(client, live.key, "/?outcome=lost")
    assert r.status_code == 303 and r.headers["location"] == "/?outcome=lost"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("verbatim_session=")
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()  # plain http: a Secure cookie would never come back
    assert live.key not in cookie
    assert client.get("/").status_code == 200


def test_session_cookie_is_secure_over_https(https_client, live):
    cookie = _sign_in(https_client, live.key).headers["set-cookie"].lower()
    assert "; secure" in cookie and "httponly" in cookie


def test_a_wrong_key_shows_the_form_again(client):
    r = _sign_in(client, "vb_wrong")
    assert r.status_code == 200 and "not valid" in r.text
    assert "set-cookie" not in r.headers or "key_id" not in r.headers["set-cookie"]
    assert client.get("/").status_code == 303


def test_sign_in_never_redirects_off_site(client, live):
    r = _sign_in(client, live.key, "//evil.example/phish")
    assert r.headers["location"] == "/"


def test_forms_need_the_session_csrf_token(client, live):
    _sign_in(client, live.key)
    r = client.post("/rebuild", data={"csrf": "forged", "return_to": "/"})
    assert r.status_code == 403
    cluster_id, _ = _demo_ids(client)
    r = client.post(f"/clusters/{cluster_id}/label", data={"label": "hijacked"})
    assert r.status_code == 403


def test_a_workspace_sees_only_its_own_data(client, live):
    cluster_id, call_id = _demo_ids(client)
    _sign_in(client, live.other_key)
    feed = client.get("/")
    assert feed.status_code == 200 and "No calls yet" in feed.text
    for path in (f"/clusters/{cluster_id}", f"/calls/{call_id}",
                 f"/export/clusters/{cluster_id}/brief.md",
                 f"/export/quotes.csv?cluster={cluster_id}"):
        assert client.get(path).status_code == 404, path
    assert client.get("/search?q=price").text.count('class="quote-card"') == 0
    rows = client.get("/export/quotes.csv").text.strip().splitlines()
    assert len(rows) == 1  # the header only


def test_pages_are_served_with_a_strict_content_security_policy(client, live):
    _sign_in(client, live.key)
    csp = client.get("/").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp


def test_call_page_shows_how_roles_were_decided_and_swaps_them_in_one_click(client, live):
    _sign_in(client, live.key)
    _, call_id = _demo_ids(client)
    page = client.get(f"/calls/{call_id}").text
    assert re.search(r"(explicit|domain|roster|recurrence|pattern|correction) · \d+%", page)
    assert f'action="/calls/{call_id}/roles/swap"' in page
    with Session(client.app.state.engine) as session:
        before = {p.name: p.role for p in session.exec(
            select(Participant).where(Participant.call_id == call_id))}
    r = client.post(f"/calls/{call_id}/roles/swap", data={"csrf": "forged"})
    assert r.status_code == 403
    r = client.post(f"/calls/{call_id}/roles/swap", data={"csrf": _csrf(client, f"/calls/{call_id}")})
    assert r.status_code == 303 and r.headers["location"] == f"/calls/{call_id}?roles=1"
    with Session(client.app.state.engine) as session:
        learned = {c.speaker: c.role for c in session.exec(
            select(RoleCorrection).where(RoleCorrection.call_id == call_id))}
    flip = {"rep": "customer", "customer": "rep"}
    assert learned == {n: flip[r] for n, r in before.items() if r in flip}
