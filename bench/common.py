"""What the benchmarks share: scratch databases, summaries of timings.

The local servers' helpers (a free port, waiting for an answer) are the tests' own:
tests/support/net.py.
"""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from maillage import migrate
from maillage.settings import database_url


@contextmanager
def scratch_database(server: str) -> Iterator[str]:
    """Create a migrated database on the PostgreSQL `server`; drop it at the end."""
    server = database_url(server)
    name = f"maillage_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def summary(samples: Sequence[float]) -> dict[str, float]:
    """Median, min and max of `samples`, in milliseconds, rounded."""
    return {"median_ms": round(statistics.median(samples) * 1000, 1),
            "min_ms": round(min(samples) * 1000, 1), "max_ms": round(max(samples) * 1000, 1)}
