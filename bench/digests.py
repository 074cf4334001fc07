"""A weekly digest run to N email subscribers (10,000 by default; 1,000,000 for the national
size) through a local SMTP sink, beside the bare limit: smtplib sending messages of the run,
pre-rendered, over as many connections (threads) to that sink.

Each subscriber follows 3 themes and 3 towns of the real communes (2,500 to 25,000
inhabitants); the week holds 100 published initiatives. The subscribers are seeded by
PostgreSQL itself (INSERT ... SELECT over generate_series: no Python row for any of them).
Measures, on a scratch PostgreSQL database, for each batch size: emails per second of
`emails.runs.send_digests` over `--connections` SMTP connections (queries, rendering, SMTP,
the digests recorded), SQL queries per batch (a SQLAlchemy event listener counts them), and
this process's memory through the run: RSS sampled every 0.2 s (its peak), and RSS once 10%
and once 90% of the recipients went through, which are the same when memory stays flat.
The sink runs in its own process: Postfix's `smtp-sink`, written for such benchmarks (Debian's
package postfix; the MTA itself need not run), where it is installed, else aiosmtpd's Sink
(`--sink aiosmtpd`). aiosmtpd reads each message line by line in Python: on two cores it
takes a core at some 250 messages of 20 KB a second, so that the bench measured the sink and
the run shared the machine with it; smtp-sink takes 1,700 a second from smtplib at a few
percent of a core.

The bare baseline: a million messages pre-rendered would hold gigabytes, a cost of its own
that no run pays. The first run keeps the first `--sample` messages it sent, as they went
out (sizes and contents of real digests; kept before a twentieth of the run, so that they
are in the RSS at 10% as at 90%); the bare run sends as many messages as the
timed run did, going round that sample, from `--connections` threads, each with one
smtplib connection of its own, taking the next message from a shared counter. Its
cost per message is then the wire's and the sink's alone, as it is for the run.

With `--workers N`, the same run is then split into N shares (DIGEST_PARTS), each a job
taken by one of N `maillage worker` processes at once (a Redis of the bench's own), the
connections shared out among them: a run's rate past one process, beside the same baseline.

Progress goes to stderr; the figures, as JSON, to stdout. Run:
`.venv/bin/python bench/digests.py --help`; at the national size, one batch size:
`.venv/bin/python bench/digests.py --subscribers 1000000 --batch-sizes 500 --workers 2`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import shutil
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path

import sqlalchemy as sa
from redis import Redis
from rq import Queue, Worker
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import add_postgres_option, scratch_database
from bench.harness.processes import private_redis
from maillage.app import create_app
from maillage.database import session, transaction
from maillage.emails.models import Digest, Frequency
from maillage.emails.periods import period_end
from maillage.emails.runs import send_digests
from maillage.events import Event
from maillage.initiatives.models import Initiative, Status, initiative_themes
from maillage.jobs import Job
from maillage.mail.connection import Connection, Verdict
from maillage.mail.transport import transport
from maillage.themes.models import Theme
from maillage.themes.operations import load_themes
from maillage.towns.models import Town
from maillage.towns.operations import import_communes
from tests.support.net import free_port
from tests.support.stack import running_stack

NOW = datetime(2026, 3, 30, 5, 10, tzinfo=UTC)  # a Monday, 07:10 in Paris
PAGE = os.sysconf("SC_PAGE_SIZE")


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def populate(subscribers: int, initiatives: int, seed: int = 6) -> None:
    """Subscribers confirmed long ago, and the initiatives published during the week: the
    subscribers and their choices written by the database from generate_series."""
    import random

    rng = random.Random(seed)
    end = period_end(Frequency.WEEKLY, NOW)
    start = end - timedelta(days=7)
    joined = start - timedelta(days=30)
    with transaction():
        themes = dict(session.execute(sa.select(Theme.slug, Theme.id)).all())
        towns = list(session.scalars(sa.select(Town.insee).where(
            Town.population.between(2500, 25000)).order_by(Town.insee)))
        params = {"n": subscribers, "joined": joined, "themes": sorted(themes.values()),
                  "towns": towns}
        session.execute(sa.text(
            "INSERT INTO subscriptions (id, email, secret, frequency, locale, created_at,"
            " confirmed_at) SELECT i, 's' || i || '@bench.test', md5('bench' || i),"
            " 'weekly', 'fr', :joined, :joined FROM generate_series(1, :n) AS i"), params)
        session.execute(sa.text(
            "SELECT setval(pg_get_serial_sequence('subscriptions', 'id'), :n)"), params)
        # The k-th theme and town of subscriber i drawn by hashtext() of (i, k), as varied
        # as random draws (one subscriber in 7 draws a theme twice, and keeps two); joined
        # on their numbers: a subscript into an array of text reads it from its start.
        for table, column, array, values in (
                ("subscription_themes", "theme_id", "int[]", "themes"),
                ("subscription_towns", "town_insee", "text[]", "towns")):
            session.execute(sa.text(
                f"INSERT INTO {table} (subscription_id, {column})"
                f" WITH c AS MATERIALIZED (SELECT v, o - 1 AS n FROM"
                f" unnest(CAST(:{values} AS {array})) WITH ORDINALITY AS u (v, o))"
                f" SELECT i, c.v FROM generate_series(1, :n) AS i"
                f" CROSS JOIN generate_series(0, 2) AS k"
                f" JOIN c ON c.n = abs(hashtext('{values}' || i || ':' || k)) % :{values}_count"
                f" ON CONFLICT DO NOTHING"),
                {**params, f"{values}_count": len(params[values])})
        session.execute(sa.text("ANALYZE"))
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


class Sampling:
    """The app's transport, keeping the first `size` messages that went out through it."""

    def __init__(self, inner, size: int) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.size = inner, size
        self.messages: list[Message] = []
        self.lock = threading.Lock()

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self.inner.connect() as connection:
            yield _Kept(connection, self)

    def wire(self) -> list[tuple[str, bytes]]:
        return [(str(m["To"]), m.as_bytes(policy=m.policy.clone(linesep="\r\n")))
                for m in self.messages]


class _Kept:
    def __init__(self, connection: Connection, sampling: Sampling) -> None:
        self.connection, self.sampling = connection, sampling

    def send_each(self, messages: Iterable[Message]) -> Iterator[Verdict]:
        for message, failure in self.connection.send_each(messages):
            if failure is None and len(self.sampling.messages) < self.sampling.size:
                with self.sampling.lock:
                    self.sampling.messages.append(message)
            yield message, failure


def rss() -> int:
    """This process's resident memory, in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


class Memory:
    """RSS sampled every 0.2 s from a thread, while the block runs."""

    def __init__(self) -> None:
        self.samples: list[int] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self.done.wait(0.2):
            self.samples.append(rss())

    def __enter__(self) -> Memory:
        self.samples.append(rss())
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()
        self.samples.append(rss())


def progress_of(total: int, label: str, counted: Callable[[int], None]) -> Callable[[int], None]:
    """A progress callback: counts, logs every 5% to stderr, and notes RSS at 10% and 90%."""
    done = [0]
    started = time.perf_counter()
    step = max(total // 20, 1)

    def progress(size: int) -> None:
        before, done[0] = done[0], done[0] + size
        counted(done[0])
        if before // step != done[0] // step or done[0] == total:
            elapsed = time.perf_counter() - started
            log(f"{label}: {done[0]:,}/{total:,} recipients, {elapsed:.0f} s, "
                f"{done[0] / elapsed:,.0f}/s, RSS {rss() / 2**20:.0f} MiB")

    return progress


def timed_run(app, batch_size: int, total: int, label: str,  # type: ignore[no-untyped-def]
              ) -> dict[str, object]:
    """One run from scratch (no digest recorded), counting the SQL of each batch."""
    with transaction():
        session.execute(sa.delete(Digest))
    engine = app.extensions["maillage.engine"]
    queries = [0]
    per_batch: list[int] = []
    marks: dict[str, int] = {}

    marks_sql = [0]

    def count(*_args: object) -> None:
        # The marker's UPDATEs, a few digests each, counted apart from the batches' queries.
        if threading.current_thread().name == "digest-marks":
            marks_sql[0] += 1
        else:
            queries[0] += 1

    def batch_done(done: int) -> None:
        per_batch.append(queries[0])
        queries[0] = 0
        for name, share in (("10%", 0.1), ("90%", 0.9)):
            if name not in marks and done >= share * total:
                marks[name] = rss()

    event.listen(engine, "before_cursor_execute", count)
    started = time.perf_counter()
    try:
        with Memory() as memory:
            report = send_digests(Frequency.WEEKLY, now=NOW, batch_size=batch_size,
                                  progress=progress_of(total, label, batch_done))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    elapsed = time.perf_counter() - started
    mib = 2**20
    return {"batch_size": batch_size, "sent": report.sent, "seconds": round(elapsed, 2),
            "emails_per_second": round(report.sent / elapsed),
            "queries_per_batch": {"first": per_batch[0],
                                  "median": statistics.median(per_batch[1:-1] or per_batch),
                                  "max_after_first": max(per_batch[1:] or [0])},
            "batches": len(per_batch), "marks_sql": marks_sql[0],
            "rss_mib": {"peak_sampled": round(max(memory.samples) / mib, 1),
                        "at_10_percent": round(marks.get("10%", 0) / mib, 1),
                        "at_90_percent": round(marks.get("90%", 0) / mib, 1)}}


def bare(sample: list[tuple[str, bytes]], count: int, connections: int, port: int,
         sender: str) -> dict[str, object]:
    """`count` messages going round `sample`, over `connections` smtplib connections."""
    numbers = itertools.count()  # next() on it is atomic: each number is taken once
    step = max(count // 20, 1)

    def send() -> None:
        with smtplib.SMTP("127.0.0.1", port) as client:
            while (n := next(numbers)) < count:
                to, data = sample[n % len(sample)]
                client.sendmail(sender, [to], data)
                if n % step == 0:
                    log(f"bare: {n:,}/{count:,}")

    threads = [threading.Thread(target=send) for _ in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {"sent": count, "seconds": round(elapsed, 2),
            "emails_per_second": round(count / elapsed), "sample": len(sample)}


def workers_run(url: str, port: int, connections: int, workers: int, total: int,
                folder: Path) -> dict[str, object]:
    """The run split into `workers` shares (DIGEST_PARTS), each a job of its own, taken by as
    many `maillage worker` processes at once, the connections shared out among them; timed
    from the jobs' queueing to the last one's end. The scheduler's job queues the same jobs,
    at the run's real date; the bench's week is in the past, so its `now` is given here."""
    with transaction():
        session.execute(sa.delete(Digest))
    settings = {"SMTP_URL": f"smtp://127.0.0.1:{port}", "DIGEST_PARTS": str(workers),
                "SMTP_CONNECTIONS": str(max(connections // workers, 1))}
    with private_redis(folder) as (redis_url, _pid), \
            running_stack(url, redis_url, folder, web=0, workers=workers, env=settings,
                          logs=True) as stack:
        redis = Redis.from_url(redis_url)
        while len(Worker.all(connection=redis)) < workers:
            time.sleep(0.1)
        mail = Queue("mail", connection=redis)
        started = time.perf_counter()
        jobs = [mail.enqueue(Job.SEND_DIGEST_PART.value, "weekly", NOW, number, workers,
                             job_timeout=24 * 3600) for number in range(workers)]
        while not all(job.get_status() in ("finished", "failed") for job in jobs):
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        peaks = [peak_rss(pid) for pid in stack.worker_pids]
        failed = [job.id for job in jobs if job.get_status() == "failed"]
    log(f"{workers} workers: {total:,} recipients in {elapsed:.0f} s")
    if failed:
        raise SystemExit(f"shares failed: {failed}; see {folder}/worker-*.log")
    with transaction():
        sent = session.scalar(sa.select(sa.func.count(Digest.sent_at))) or 0
    if sent != total:
        raise SystemExit(f"{sent:,} digests of {total:,} sent")
    return {"workers": workers, "connections_each": int(settings["SMTP_CONNECTIONS"]),
            "sent": sent, "seconds": round(elapsed, 2),
            "emails_per_second": round(sent / elapsed),
            "peak_rss_mib_each": [round(peak / 2**20, 1) for peak in peaks]}


def peak_rss(pid: int) -> int:
    """The peak resident memory of process `pid` (VmHWM), in bytes."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def sink_command(name: str, port: int) -> list[str]:
    """The command of the SMTP sink `name` listening on `port`."""
    if name == "aiosmtpd":
        return [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                "-c", "aiosmtpd.handlers.Sink"]
    # As root, smtp-sink must be told whom to run as; 256 is its listen backlog.
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    return [name, *user, f"127.0.0.1:{port}", "256"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_postgres_option(parser)
    parser.add_argument("--subscribers", type=int, default=10_000,
                        help="confirmed subscribers (default 10,000; 1,000,000 nationally)")
    parser.add_argument("--initiatives", type=int, default=100,
                        help="initiatives published during the week")
    parser.add_argument("--batch-sizes", default="200,1000",
                        help="comma-separated batch sizes, one timed run each")
    parser.add_argument("--connections", type=int, default=4,
                        help="SMTP connections of the run (SMTP_CONNECTIONS) and of the bare "
                             "baseline (default 4)")
    parser.add_argument("--sample", type=int, default=1_000,
                        help="messages of the first run the bare baseline goes round "
                             "(default 1,000; at most a twentieth of the subscribers)")
    parser.add_argument("--workers", type=int, default=0,
                        help="also run the digests split over this many `maillage worker` "
                             "processes (DIGEST_PARTS), the connections shared among them, "
                             "on a Redis of the bench's own (default 0: not)")
    parser.add_argument("--sink", choices=("smtp-sink", "aiosmtpd"),
                        default="smtp-sink" if shutil.which("smtp-sink") else "aiosmtpd",
                        help="the SMTP server that takes the mail (default smtp-sink where "
                             "installed: apt-get install postfix)")
    args = parser.parse_args()
    port = free_port()
    sink = subprocess.Popen(sink_command(args.sink, port))
    try:
        with scratch_database(args.postgres) as url:
            app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "REDIS_URL": None,
                              "SMTP_URL": f"smtp://127.0.0.1:{port}",
                              "SMTP_CONNECTIONS": args.connections})
            with app.app_context():
                with transaction():
                    import_communes()
                    load_themes()
                log("communes loaded")
                started = time.perf_counter()
                populate(args.subscribers, args.initiatives)
                log(f"{args.subscribers:,} subscribers in, "
                    f"{time.perf_counter() - started:.0f} s")
                # Kept before the run is a twentieth through: out of the 10%-90% RSS.
                sampling = Sampling(transport(), min(args.sample,
                                                     max(args.subscribers // 20, 1)))
                app.extensions["maillage.mail"] = sampling
                runs = []
                for n, size in enumerate(args.batch_sizes.split(",")):
                    runs.append(timed_run(app, int(size), args.subscribers,
                                          f"run {n + 1}, batches of {size}"))
                    app.extensions["maillage.mail"] = sampling.inner
                with transaction():
                    items = statistics.median(session.scalars(
                        sa.select(Digest.items).where(Digest.items > 0).limit(10_000)))
                sample = sampling.wire()
                log(f"kept {len(sample)} messages for the bare run")
                baseline = bare(sample, int(runs[0]["sent"]), args.connections, port,
                                "ne-pas-repondre@maillage.localhost")
                if args.workers:
                    with tempfile.TemporaryDirectory(prefix="bench-digests-") as folder:
                        runs.append(workers_run(url, port, args.connections, args.workers,
                                                int(runs[0]["sent"]), Path(folder)))
            app.extensions["maillage.engine"].dispose()
    finally:
        sink.terminate()
        sink.wait()
    for run in runs:
        run["over_bare"] = round(run["emails_per_second"] / baseline["emails_per_second"], 2)
    print(json.dumps({
        "benchmark": "digests", "machine": platform.node(), "cores": os.cpu_count(),
        "python": platform.python_version(), "sink": args.sink,
        "subscribers": args.subscribers,
        "initiatives_in_week": args.initiatives, "connections": args.connections,
        "items_per_digest_median": items,
        "message_bytes_median": statistics.median(len(d) for _t, d in sample),
        "max_rss_mib_process": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "runs": runs, "bare_smtplib": baseline}, indent=2))


if __name__ == "__main__":
    main()
