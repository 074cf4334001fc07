"""What the benchmarks and the service tests share: scratch databases, local servers."""

from __future__ import annotations

import socket
import statistics
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import requests
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


def free_port() -> int:
    """Return a loopback TCP port free at this moment, for a server the caller starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, seconds: float = 60) -> None:
    """Wait until `url` answers without a server error; raise after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")
