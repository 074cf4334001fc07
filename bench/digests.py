"""A weekly digest run to 10,000 email subscribers through a local SMTP sink, beside the bare
limit: the same messages, pre-rendered, sent with smtplib over one connection to that sink.

Each subscriber follows 3 themes and 3 towns of the real communes (2,500 to 25,000
inhabitants); the week holds 100 published initiatives. Measures, on a scratch PostgreSQL
database, for each batch size: emails per second of `emails.runs.send_digests` (queries,
rendering, SMTP, the digests recorded) and SQL queries per batch (a SQLAlchemy event listener
counts them). The sink (`python -m aiosmtpd -c aiosmtpd.handlers.Sink`) runs in its own
process. Prints JSON. Run: `.venv/bin/python bench/digests.py --help`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import smtplib
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import scratch_database
from maillage.app import create_app
from maillage.database import session, transaction
from maillage.emails.models import Digest, Frequency, Subscription
from maillage.emails.models import subscription_themes as sub_themes
from maillage.emails.models import subscription_towns as sub_towns
from maillage.emails.periods import period_end
from maillage.emails.runs import send_digests
from maillage.events import Event
from maillage.initiatives.models import Initiative, Status, initiative_themes
from maillage.themes.models import Theme
from maillage.themes.operations import load_themes
from maillage.towns.models import Town
from maillage.towns.operations import import_communes
from tests.support.net import free_port

NOW = datetime(2026, 3, 30, 5, 10, tzinfo=UTC)  # a Monday, 07:10 in Paris


def populate(subscribers: int, initiatives: int, seed: int = 6) -> None:
    """Subscribers confirmed long ago, and the initiatives published during the week."""
    rng = random.Random(seed)
    end = period_end(Frequency.WEEKLY, NOW)
    start = end - timedelta(days=7)
    with transaction():
        themes = dict(session.execute(sa.select(Theme.slug, Theme.id)).all())
        towns = list(session.scalars(sa.select(Town.insee).where(
            Town.population.between(2500, 25000)).order_by(Town.insee)))
        session.execute(sa.insert(Subscription), [
            {"email": f"s{n}@bench.test", "frequency": Frequency.WEEKLY, "locale": "fr",
             "created_at": start - timedelta(days=30),
             "confirmed_at": start - timedelta(days=30)} for n in range(subscribers)])
        ids = list(session.scalars(sa.select(Subscription.id).order_by(Subscription.id)))
        session.execute(sa.insert(sub_themes), [
            {"subscription_id": i, "theme_id": themes[slug]}
            for i in ids for slug in rng.sample(sorted(themes), 3)])
        session.execute(sa.insert(sub_towns), [
            {"subscription_id": i, "town_insee": insee}
            for i in ids for insee in rng.sample(towns, 3)])
        for n in range(initiatives):
            at = start + timedelta(seconds=rng.randrange(7 * 24 * 3600))
            slugs = rng.sample(sorted(themes), 2)
            town = rng.choice(towns)
            initiative = Initiative(town_insee=town, title=f"Initiative numéro {n}",
                                    summary="s", body="b", body_html="<p>b</p>",
                                    status=Status.IDEA, created_at=at, updated_at=at)
            session.add(initiative)
            session.flush()
            session.execute(sa.insert(initiative_themes), [
                {"initiative_id": initiative.id, "theme_id": themes[s]} for s in slugs])
            # A plain INSERT: an Event added to the session would be dispatched after commit.
            session.execute(sa.insert(Event).values(
                kind="initiative.published", created_at=at, processed_at=at,
                payload={"initiative_id": initiative.id, "town_insee": town, "themes": slugs,
                         "title": initiative.title}))


class Capture:
    """A transport keeping the messages' bytes: the bare run's pre-rendered messages."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []

    @contextmanager
    def connect(self):  # type: ignore[no-untyped-def]
        yield self

    def send_each(self, messages: Iterable[Message]) -> Iterator[tuple[Message, None]]:
        for message in messages:
            self.messages.append((str(message["To"]),
                                  message.as_bytes(policy=message.policy.clone(linesep="\r\n"))))
            yield message, None


def timed_run(app, batch_size: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """One run from scratch (no digest recorded), counting the SQL of each batch."""
    with transaction():
        session.execute(sa.delete(Digest))
    engine = app.extensions["maillage.engine"]
    queries = [0]
    per_batch: list[int] = []

    def count(*_args: object) -> None:
        queries[0] += 1

    def batch_done(_size: int) -> None:
        per_batch.append(queries[0])
        queries[0] = 0

    event.listen(engine, "before_cursor_execute", count)
    started = time.perf_counter()
    try:
        report = send_digests(Frequency.WEEKLY, now=NOW, batch_size=batch_size,
                              progress=batch_done)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    elapsed = time.perf_counter() - started
    return {"batch_size": batch_size, "sent": report.sent, "seconds": round(elapsed, 2),
            "emails_per_second": round(report.sent / elapsed),
            "queries_per_batch": {"first": per_batch[0],
                                  "median": statistics.median(per_batch[1:-1] or per_batch),
                                  "max_after_first": max(per_batch[1:] or [0])},
            "batches": len(per_batch)}


def bare(messages: list[tuple[str, bytes]], port: int, sender: str) -> dict[str, object]:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as client:
        for to, data in messages:
            client.sendmail(sender, [to], data)
    elapsed = time.perf_counter() - started
    return {"sent": len(messages), "seconds": round(elapsed, 2),
            "emails_per_second": round(len(messages) / elapsed)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default="postgresql://127.0.0.1:5432/postgres",
                        help="a PostgreSQL server where a scratch database is made and dropped")
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--initiatives", type=int, default=100,
                        help="initiatives published during the week")
    parser.add_argument("--batch-sizes", default="200,1000")
    args = parser.parse_args()
    port = free_port()
    sink = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l",
                             f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"])
    try:
        with scratch_database(args.postgres) as url:
            app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "REDIS_URL": None,
                              "SMTP_URL": f"smtp://127.0.0.1:{port}"})
            with app.app_context():
                with transaction():
                    import_communes()
                    load_themes()
                print("communes loaded", file=sys.stderr)
                populate(args.subscribers, args.initiatives)
                print("subscribers in", file=sys.stderr)
                smtp = app.extensions.get("maillage.mail")
                capture = Capture()
                app.extensions["maillage.mail"] = capture
                send_digests(Frequency.WEEKLY, now=NOW)
                app.extensions["maillage.mail"] = smtp
                if smtp is None:
                    del app.extensions["maillage.mail"]
                with transaction():
                    items = list(session.scalars(sa.select(Digest.items)))
                print(f"rendered {len(capture.messages)} messages", file=sys.stderr)
                runs = [timed_run(app, int(size)) for size in args.batch_sizes.split(",")]
                baseline = bare(capture.messages, port, "ne-pas-repondre@maillage.localhost")
            app.extensions["maillage.engine"].dispose()
    finally:
        sink.terminate()
        sink.wait()
    for run in runs:
        run["over_bare"] = round(run["emails_per_second"] / baseline["emails_per_second"], 2)
    print(json.dumps({
        "benchmark": "digests", "machine": platform.node(), "cores": os.cpu_count(),
        "python": platform.python_version(), "subscribers": args.subscribers,
        "initiatives_in_week": args.initiatives,
        "items_per_digest_median": statistics.median(items),
        "message_bytes_median": statistics.median(len(d) for _t, d in capture.messages),
        "runs": runs, "bare_smtplib_one_connection": baseline}, indent=2))


if __name__ == "__main__":
    main()
