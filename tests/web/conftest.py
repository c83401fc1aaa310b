"""The real app served by uvicorn on a free port, over a temp database holding a few demo calls
(and a few planted ones) processed by the real pipeline; Playwright drives Debian's Chromium."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn

from app.db import create_tables, make_engine, session_scope
from app.main import create_app
from app.services.ingest import ingest_bytes
from app.services.workspaces import create_api_key, get_or_create_workspace
from app.settings import Settings
from app.worker import Worker
from pipelines.types import CallMeta
from tests.app.factories import transcript
from tests.app.planted import planted_calls

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

# (sample, days before today): dated relative to today, so "last 30 days" always has calls.
CALLS = [
    ("04-bluewater-freight-pricing.json", 3),
    ("12-quillstack-discovery.json", 8),
    ("08-open-harbor-foundation-proposal.json", 18),
    ("20-marlowe-tate-security-review.json", 75),
]
# Four real calls are too few to cluster, so six short calls carry the planted objections,
# each phrased six ways: (account, outcome, days before today).
PLANTED_CALLS = [
    ("Globex Freight", "lost", 2), ("Initech Systems", "lost", 6), ("Umbrella Health", "won", 10),
    ("Hooli Media", "lost", 25), ("Vandelay Imports", "open", 40), ("Stark Builders", "won", 60),
]


@dataclass
class Live:
    url: str
    key: str
    other_key: str
    db_url: str
    accounts: dict[str, str] = field(default_factory=dict)  # account -> outcome


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _load(db_url: str, models) -> tuple[str, str]:
    """Stores the sample calls in workspace "demo", processes them; returns two keys."""
    engine = make_engine(db_url)
    create_tables(engine)
    settings = Settings(database_url=db_url)
    with session_scope(engine) as session:
        demo = get_or_create_workspace(session=session, name="demo")
        demo.own_domains = ["relayhq.com"]
        key = create_api_key(session=session, workspace=demo)
        other = get_or_create_workspace(session=session, name="other-team")
        other_key = create_api_key(session=session, workspace=other)
        workspace_id = demo.id
    now = datetime.now(UTC).replace(hour=15, minute=0, second=0, microsecond=0)
    bodies = [((SAMPLES / name).read_bytes(), days) for name, days in CALLS]
    for i, ((account, outcome, days), lines) in enumerate(
            zip(PLANTED_CALLS, planted_calls(), strict=True)):
        call = transcript(f"planted-{i}", lines, account=account, outcome=outcome)
        bodies.append((json.dumps(call).encode(), days))
    for body, days in bodies:
        with session_scope(engine) as session:
            ingest_bytes(session=session, workspace_id=workspace_id, body=body,
                         content_type="application/json", fmt=None,
                         meta=CallMeta(started_at=now - timedelta(days=days)),
                         settings=settings)
    Worker(engine, models).run_until_idle()
    engine.dispose()
    return key, other_key


@pytest.fixture(scope="session")
def live(models, tmp_path_factory) -> Iterator[Live]:
    """The app on http://127.0.0.1:PORT with its worker thread on (the rebuild button)."""
    db_url = f"sqlite:///{tmp_path_factory.mktemp('web')}/verbatim.db"
    key, other_key = _load(db_url, models)
    app = create_app(Settings(database_url=db_url, worker_poll_seconds=0.2,
                              session_secret="web-tests"), models=models)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    accounts = {account: outcome for account, outcome, _ in PLANTED_CALLS}
    for name, _ in CALLS:
        data = json.loads((SAMPLES / name).read_text())
        accounts[data["account"]] = data["outcome"]
    try:
        yield Live(f"http://127.0.0.1:{port}", key, other_key, db_url, accounts)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="module")
def browser():
    """Closed after its module: Playwright's sync API keeps its event loop running in the main
    thread until then, and every asyncio.run() of a later test (the PostgreSQL worker's, the
    load generator's) would fail with 'cannot be called from a running event loop'."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium "
                    "(apt-get install chromium); browser tests need it")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Tab:
    """A browser page that remembers every console error and uncaught exception."""

    page: object
    live: Live
    errors: list[str]

    def sign_in(self, key: str | None = None) -> None:
        self.page.goto(self.live.url + "/login")
        self.page.fill("#api_key", key or self.live.key)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(self.live.url + "/")

    def shot(self, name: str, *, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture
def tab(browser, live) -> Iterator[Tab]:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield Tab(page, live, errors)
    context.close()
    assert errors == [], f"the page logged errors: {errors}"
