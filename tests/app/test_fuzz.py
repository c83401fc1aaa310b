"""Schema fuzzing with schemathesis: generated requests for every operation of the OpenAPI
document (valid and invalid ones), against the app on SQLite and PostgreSQL. No answer may
be a 5xx, and every answer must be documented: status, content type and body schema.

Marked `fuzz` (and `slow`: search runs the real embedder), so the fast loop skips it;
`make test` runs it. VERBATIM_FUZZ_EXAMPLES sets the examples per operation (default 20)."""

from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.db import session_scope
from app.main import create_app
from app.services.hooks import rotate_secret
from app.services.workspaces import create_api_key, get_or_create_workspace
from app.settings import Settings

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]

EXAMPLES = int(os.environ.get("VERBATIM_FUZZ_EXAMPLES", "20"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
TALLY: Counter[str] = Counter()


# subtitles are text on the wire, like text/plain
schemathesis.serializer.alias("application/x-subrip", "text/plain")

# the document does not depend on settings or models: no lifespan runs to build it
schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi())


@pytest.fixture
def fuzz_target(db_url, models):
    """The running app on a fresh database, a workspace with a webhook secret, and its key."""
    app = create_app(Settings(database_url=db_url, worker_enabled=False), models=models)
    with TestClient(app, raise_server_exceptions=os.environ.get("FUZZ_RAISE") == "1") as client:
        with session_scope(app.state.engine) as session:
            workspace = get_or_create_workspace(session=session, name="fuzz")
            key = create_api_key(session=session, workspace=workspace)
            rotate_secret(session=session, workspace=workspace)
        yield client, {"Authorization": f"Bearer {key}"}


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_5xx_and_every_answer_is_documented(case, fuzz_target):
    client, auth = fuzz_target
    TALLY[case.operation.label] += 1
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=auth)
    response = client.request(**_httpx(kwargs))
    response.request.read()  # a multipart upload is a stream: the checks read it again
    case.validate_response(response, checks=CHECKS)


def _httpx(kwargs: dict) -> dict:
    """schemathesis speaks `requests`; the test client speaks httpx."""
    out = {k: v for k, v in kwargs.items() if k in ("method", "url", "headers", "params",
                                                      "json", "files", "cookies")}
    data = kwargs.get("data")
    if isinstance(data, (bytes, str)):
        out["content"] = data
    elif data is not None:
        out["data"] = data
    if out.get("files"):
        out["files"] = [(name, _part(value)) for name, value in _items(out["files"])]
    return out


def _items(files) -> list:
    return list(files.items()) if isinstance(files, dict) else list(files)


def _part(value):
    """A generated part may be a bare number or None: send it as text, as requests does."""
    if isinstance(value, tuple):
        return (value[0], _part(value[1]), *value[2:])
    if isinstance(value, (bytes, str)) or hasattr(value, "read"):
        return value
    return str(value).encode()


def test_the_fuzzing_ran_enough_cases():
    """Runs after the fuzzing in file order; the total is printed for the CI log."""
    total = sum(TALLY.values())
    print(f"\nschemathesis: {total} cases over {len(TALLY)} operations")
    if not TALLY:
        pytest.skip("the fuzzing test was not selected")
    assert total >= 1000
