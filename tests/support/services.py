"""The services some tests need (Redis, Node.js, Chromium...), and what to do when one is missing.

With MAILLAGE_REQUIRE_SERVICES=1 (as in CI), a service that does not answer fails the run
instead of skipping it.
"""

from __future__ import annotations

import atexit
import os

import pytest
from redis import Redis
from redis.exceptions import RedisError

REQUIRE_SERVICES = os.environ.get("MAILLAGE_REQUIRE_SERVICES") == "1"
_MACHINE_REDIS = "redis://127.0.0.1:6379"
# Not 0 (a developer's own), 6 and 9 (bench/pages.py's and bench/fanout.py's).
_TEST_DATABASES = (*range(1, 6), 7, 8, *range(10, 16))


def _claim_redis_database() -> str:
    """A Redis database of this run's own, since the tests that use it flush it: two suites
    run side by side (SQLite and PostgreSQL, say) would empty each other's queues.

    Each run claims a free database among _TEST_DATABASES by a key in database 0 (which no
    test flushes), let go when the run ends, or after a day if it was killed.
    """
    try:
        claims = Redis.from_url(f"{_MACHINE_REDIS}/0", socket_connect_timeout=1)
        for number in _TEST_DATABASES:
            key = f"maillage-tests:redis-database:{number}"
            if claims.set(key, os.getpid(), nx=True, ex=24 * 3600):
                atexit.register(claims.delete, key)
                return f"{_MACHINE_REDIS}/{number}"
    except RedisError:
        pass  # no Redis: the tests that need it say so (service_missing)
    return f"{_MACHINE_REDIS}/{_TEST_DATABASES[-1]}"


SHARED_REDIS = os.environ.get("MAILLAGE_TEST_REDIS_URL") or _claim_redis_database()


def service_missing(message: str) -> None:
    """Fail when services are required (CI), skip otherwise (a laptop without them)."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (MAILLAGE_REQUIRE_SERVICES=1: a missing service is a failure)")
    pytest.skip(message)
