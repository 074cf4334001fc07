"""schemathesis against /api/v1/openapi.json: no answer is a 500, none breaks its schema.

Every operation gets schemathesis' coverage phase (the boundaries of each parameter and body
field: the minimum and maximum, one past them, the wrong type, a missing required field) and
a few fuzzed examples, each in positive and negative mode. Every case is sent twice: with a
write token of a verified member who is also a moderator, so that writes go past
authentication into validation and the operations, and with no headers at all, as anyone.
A few examples per operation: the suite runs twice (SQLite, PostgreSQL) on two shared cores.

The document is read once, from an app on no database, when the module is collected (the
parametrization needs it then); each example is sent to the test's own app. The requests are
counted, and the count is printed when the module ends.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import response_schema_conformance

from maillage.accounts.models import Scope
from maillage.app import create_app


def _document() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"DATABASE_URL": "sqlite://", "INSTANCE_PATH": Path(folder),
                          "SECRET_KEY": "schema", "TESTING": True, "REDIS_URL": None,
                          "SWEEP_INTERVAL": None})
        return app.test_client().get("/api/v1/openapi.json").json


# Positive and negative data in every phase that generates it; no stateful phase (links
# between operations are not described in the document).
CONFIG = SchemathesisConfig.from_dict({
    "generation": {"mode": "all"},
    "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True},
               "fuzzing": {"enabled": True}, "stateful": {"enabled": False}},
})
schema = schemathesis.openapi.from_dict(_document(), config=CONFIG)
REQUESTS = {"sent": 0}


@pytest.fixture(scope="module", autouse=True)
def request_count(request: pytest.FixtureRequest) -> Iterator[None]:
    """Report how many requests the module sent, so that its cost stays in sight."""
    yield
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\ntest_schema.py: {REQUESTS['sent']} requests")


@pytest.fixture
def api_app(make_app):
    app = make_app(RATELIMIT_ENABLED=False)
    with app.app_context():
        yield app


@pytest.fixture
def member_headers(api_app, create_user, token_for) -> dict[str, str]:
    user = create_user(town="22113", verified=True, moderator=True)
    return {"Authorization": f"Bearer {token_for(user, Scope.WRITE)}"}


@schema.parametrize()
@hypothesis.settings(max_examples=5, deadline=None, derandomize=True,
                     suppress_health_check=list(hypothesis.HealthCheck))
def test_the_api_keeps_to_its_schema(case, api_app, member_headers) -> None:
    for headers in (member_headers, None):
        REQUESTS["sent"] += 1
        case.call_and_validate(app=api_app, headers=headers,
                               checks=[not_a_server_error, response_schema_conformance])
