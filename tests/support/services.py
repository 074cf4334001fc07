"""The services some tests need (Redis, Node.js, Chromium...), and what to do when one is missing.

With MAILLAGE_REQUIRE_SERVICES=1 (as in CI), a service that does not answer fails the run
instead of skipping it.
"""

from __future__ import annotations

import os

import pytest

REQUIRE_SERVICES = os.environ.get("MAILLAGE_REQUIRE_SERVICES") == "1"
# The machine's Redis, on a database of the tests' own (flushed by the tests that use it).
SHARED_REDIS = os.environ.get("MAILLAGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def service_missing(message: str) -> None:
    """Fail when services are required (CI), skip otherwise (a laptop without them)."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (MAILLAGE_REQUIRE_SERVICES=1: a missing service is a failure)")
    pytest.skip(message)
