"""What /readyz checks, and the gauges of /metrics that health reads itself.

Each check answers within a few seconds whatever the service does: a readiness probe that
hangs is taken for a dead process, and the process restarted for a fault elsewhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask
from redis import Redis
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from maillage import gauges, realtime
from maillage.database import session
from maillage.emails.models import Digest
from maillage.events import Event, to_process
from maillage.mail.smtp import SmtpTransport

TIMEOUT = 2  # seconds a check waits for each answer of its service


@dataclass(frozen=True)
class Check:
    """The answer of one service: whether it is reachable, how fast, and what failed: the
    exception's class, for anyone to see, and its message, which names hosts and ports, for
    the log."""

    name: str
    ok: bool
    seconds: float
    failure: str | None = None
    detail: str | None = None


def checks(app: Flask) -> list[Check]:
    """Check the database, and Redis and the SMTP server when the app uses them."""
    probes: list[tuple[str, Callable[[Flask], None]]] = [("database", _database)]
    if app.config["REDIS_URL"]:
        probes.append(("redis", _redis))
    if app.config["SMTP_URL"]:
        probes.append(("smtp", _smtp))
    return [_run(name, probe, app) for name, probe in probes]


def _run(name: str, probe: Callable[[Flask], None], app: Flask) -> Check:
    started = time.perf_counter()
    try:
        probe(app)
    except Exception as error:
        return Check(name, False, time.perf_counter() - started, type(error).__name__,
                     str(error))
    return Check(name, True, time.perf_counter() - started)


def _database(app: Flask) -> None:
    """A new connection, not one of the pool: it proves that the server still accepts them
    (a full max_connections refuses new ones while the pool's go on working), and it can be
    given a timeout of its own. The migrations' table proves the schema is there."""
    engine = app.extensions.get("maillage.health.engine")
    if engine is None:
        engine = app.extensions["maillage.health.engine"] = _probe_engine(
            app.config["DATABASE_URL"])
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT 1 FROM alembic_version"))


def _probe_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        return sa.create_engine(url, poolclass=NullPool, connect_args={"timeout": TIMEOUT})
    return sa.create_engine(url, poolclass=NullPool, connect_args={
        "connect_timeout": TIMEOUT, "options": f"-c statement_timeout={TIMEOUT * 1000}"})


def _redis(app: Flask) -> None:
    client = app.extensions.get("maillage.health.redis")
    if client is None:
        client = app.extensions["maillage.health.redis"] = Redis.from_url(
            app.config["REDIS_URL"], socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT)
    client.ping()


def _smtp(app: Flask) -> None:
    """The session mail is sent in, signed in when SMTP_URL names a user; then closed."""
    transport = SmtpTransport(app.config["SMTP_URL"], app.config["MAIL_SENDER"],
                              timeout=TIMEOUT)
    transport.open().quit()


@gauges.gauge("maillage_events_pending", "Events of the outbox not processed yet, nor failed.")
def pending_events() -> float:
    return session.scalar(sa.select(sa.func.count()).where(to_process())) or 0


@gauges.gauge("maillage_events_oldest_pending_seconds",
              "Age of the oldest event not processed yet, nor failed (0 when none waits).")
def oldest_pending_event() -> float:
    return gauges.age(session.scalar(sa.select(sa.func.min(Event.created_at)).where(to_process())))


@gauges.gauge("maillage_events_failed", "Events failed for good after EVENT_MAX_TRIES tries, "
              "waiting for `maillage events replay`.")
def failed_events() -> float:
    return session.scalar(sa.select(sa.func.count()).where(Event.failed_at.is_not(None))) or 0


@gauges.gauge("maillage_live_sockets", "Sockets that signed-in people hold open, on every "
              "web process.")
def live_sockets() -> float:
    return realtime.presence().sockets()


@gauges.gauge("maillage_digests_unsent", "Digests recorded and not marked sent yet.")
def unsent_digests() -> float:
    return session.scalar(sa.select(sa.func.count()).where(Digest.sent_at.is_(None))) or 0


@gauges.gauge("maillage_digest_lag_seconds", "Time since the end of the period of the oldest "
              "digest not sent yet (0 when every digest recorded went out).")
def digest_lag() -> float:
    return gauges.age(session.scalar(sa.select(sa.func.min(Digest.period_end))
                               .where(Digest.sent_at.is_(None))))
