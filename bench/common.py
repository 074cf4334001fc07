"""What the benchmarks share: scratch databases, summaries of timings.

The local servers' helpers (a free port, waiting for an answer) are the tests' own:
tests/support/net.py.
"""

from __future__ import annotations

import argparse
import re
import statistics
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url

from maillage import migrate
from maillage.settings import database_url

SERVER = "postgresql://127.0.0.1:5432/postgres"


def add_postgres_option(parser: argparse.ArgumentParser) -> None:
    """The benches' `--postgres`: the server where `scratch_database` makes its database."""
    parser.add_argument("--postgres", default=SERVER,
                        help="a PostgreSQL server where a scratch database is made and dropped")


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


AUTO_EXPLAIN = ("SET auto_explain.log_min_duration = 0", "SET auto_explain.log_analyze = on",
                "SET auto_explain.log_buffers = on", "SET auto_explain.log_timing = on",
                "SET auto_explain.log_level = notice")


@contextmanager
def explained(engine: sa.Engine, pattern: str) -> Iterator[list[dict[str, str]]]:
    """Collect the `EXPLAIN (ANALYZE, BUFFERS)` plans of the statements matching `pattern`
    (a regular expression searched in their text) that the application runs meanwhile.

    The plans are those of the real statements, run once, as PostgreSQL's auto_explain
    reports them to the connection (a notice), on connections opened in the block: a
    statement re-run under EXPLAIN would find the work done (a fan-out's ON CONFLICT).
    Needs a superuser, for LOAD.
    """
    found: list[dict[str, str]] = []
    wanted = re.compile(pattern)

    def notice(diagnostic: Any) -> None:
        lines = (diagnostic.message_primary or "").splitlines()[1:]
        # The query may span lines; the plan starts at its first node, with its costs.
        start = next((n for n, line in enumerate(lines) if "(cost=" in line), len(lines))
        query = " ".join(line.strip() for line in lines[:start]).removeprefix("Query Text: ")
        if wanted.search(query):
            found.append({"query": query, "plan": "\n".join(lines[start:])})

    def connected(connection: Any, _record: Any) -> None:
        connection.add_notice_handler(notice)
        with connection.cursor() as cursor:
            cursor.execute("LOAD 'auto_explain'")
            for setting in AUTO_EXPLAIN:
                cursor.execute(setting)
        connection.commit()

    engine.dispose()
    event.listen(engine, "connect", connected)
    try:
        yield found
    finally:
        event.remove(engine, "connect", connected)
        engine.dispose()
