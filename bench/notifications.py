"""A member's notifications list and unread count, and pruning, on a large notifications table.

For each size N (10,000 and 100,000 by default), on a scratch PostgreSQL database:
- one member with N notifications (the newest `--member-unread` of them unread), among
  `--fanout` other members notified of each of the same events: 3.1 million rows in all at
  100,000, spread over `--months` months, most of the others' read; seeded in SQL
  (INSERT ... SELECT generate_series), not from Python rows;
- the application served by gunicorn as in production, and, through HTTP with the member's
  personal token, `--requests` timed requests of each: the API's list (the latest 50), its
  unread count, the HTML page (the latest 50 and the header's badge), and, as the HTTP
  baseline, the API's list after the newest id (the same request, finding nothing);
- the bare baseline: the SQL the application ran for the list and the count, captured as it
  ran, then run alone through psycopg as often;
- EXPLAIN (ANALYZE, BUFFERS) of those two statements (in the JSON under "plans");
- pruning (`maillage notifications prune`): the read notifications older than
  `--keep-read-days` and the unread ones older than `--keep-unread-days`, deleted in batches,
  in rows per second, beside one bare DELETE of the same rows (rolled back) in the same run.
Prints JSON on stdout, progress on stderr. Run: `.venv/bin/python bench/notifications.py`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import add_postgres_option, scratch_database
from bench.search import server
from bench.search import summary as percentiles
from maillage.accounts.models import Scope, User
from maillage.accounts.operations import create_token
from maillage.app import create_app
from maillage.database import session, transaction, utcnow
from maillage.notifications import queries, retention

TARGET_P95_MS = 20.0
DATA = ('{"actor": "Maire de Pleumeur", "title": "Ateliers numériques pour les seniors",'
        ' "town": "Pleumeur-Bodou", "link": "/initiatives/1"}')


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def seed(url: str, size: int, args: argparse.Namespace) -> int:
    """Fill the scratch database in SQL; return the member's id (the first user).

    The last user is another member, notified of the oldest tenth of the events only: the
    case where a plan walking all ids backwards finds their rows last.
    """
    started = time.perf_counter()
    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        # Without foreign key triggers for the load: 3 million rows would check them one by one.
        connection.execute("SET session_replication_role = replica")
        connection.execute(
            "INSERT INTO users (email, display_name, is_admin, is_moderator, locale, created_at,"
            " session_secret) SELECT 'm' || g || '@bench.test', 'M ' || g, false, false, 'fr',"
            " now(), md5(g::text) FROM generate_series(0, %s) g", (args.members + 1,))
        member = connection.execute("SELECT min(id) FROM users").fetchone()[0]
        # One event per notification of the member, the oldest first, `months` months long.
        connection.execute(
            "INSERT INTO events (kind, payload, created_at, dispatched_at, processed_at, tries)"
            " SELECT 'initiative.published', '{}', at, at, at, 1 FROM ("
            "  SELECT now() - make_interval(months => %s) * (1 - g::float / %s) AS at"
            "  FROM generate_series(1, %s) g) t", (args.months, size, size))
        # The member and `fanout` others per event, distinct (101 is prime to `members`), in
        # id order of time; the others read 80% of theirs but for the last week's.
        connection.execute(
            "INSERT INTO notifications (user_id, event_id, kind, reason, reason_ref, data,"
            " created_at, read_at)"
            " SELECT user_id, id, kind, 'theme', 'inclusion-numerique', %s::json, created_at,"
            "  CASE WHEN user_id = %s THEN"
            "   CASE WHEN rank > %s THEN created_at + interval '1 hour' END"
            "  WHEN created_at < now() - interval '7 days' AND random() < 0.8"
            "   THEN created_at + interval '1 day' END"
            " FROM (SELECT e.id, e.kind, e.created_at, who.user_id,"
            "        %s - row_number() OVER (ORDER BY e.id) AS rank"
            "       FROM events e CROSS JOIN LATERAL ("
            "        SELECT %s AS user_id UNION ALL"
            "        SELECT %s + %s + 1 WHERE e.id < (SELECT min(id) FROM events) + %s"
            "        UNION ALL"
            "        SELECT %s + 1 + (e.id * 37 + k * 101) %% %s FROM generate_series(1, %s) k"
            "       ) who) t ORDER BY id, user_id",
            (DATA, member, round(size * args.member_unread), size, member, member,
             args.members, size // 10, member, args.members, args.fanout))
        connection.execute("SET session_replication_role = DEFAULT")
        # As autovacuum does on a live table: statistics, and the visibility map that
        # index-only scans read.
        connection.execute("VACUUM ANALYZE notifications")
        connection.execute("VACUUM ANALYZE events")
        rows = connection.execute("SELECT count(*) FROM notifications").fetchone()[0]
    say(f"  seeded {rows:,} notifications in {time.perf_counter() - started:.0f} s")
    return member


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def captured_sql(engine: sa.Engine, member: int, old: int) -> dict[str, tuple[str, Any]]:
    """The statements the application runs for the member's list and unread count, and for
    the list of the member whose notifications are all old."""
    statements: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        statements.append((statement, parameters))

    found = {}
    sa.event.listen(engine, "before_cursor_execute", keep)
    try:
        for name, call in (("list", lambda: queries.notifications_of(member, after=None,
                                                                       limit=50)),
                           ("unread", lambda: queries.unread_count(member)),
                           ("list, a member with old ones only",
                            lambda: queries.notifications_of(old, after=None, limit=50))):
            statements.clear()
            call()
            session.rollback()
            found[name] = next(s for s in statements if "notifications" in s[0])
    finally:
        sa.event.remove(engine, "before_cursor_execute", keep)
    return found


def bare_sql(url: str, statements: dict[str, tuple[str, Any]], requests: int) -> dict[str, Any]:
    """Time each statement alone through psycopg; return p50/p95 and their plans."""
    timings: dict[str, Any] = {}
    plans: dict[str, str] = {}
    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        for name, (statement, parameters) in statements.items():
            for _ in range(10):
                connection.execute(statement, parameters).fetchall()
            samples = []
            for _ in range(requests):
                started = time.perf_counter()
                connection.execute(statement, parameters).fetchall()
                samples.append((time.perf_counter() - started) * 1000)
            timings[name] = percentiles(samples)
            plans[name] = "\n".join(row[0] for row in connection.execute(
                "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters))
    return {"timings": timings, "plans": plans}


def over_http(port: int, token: str, newest: int, requests: int) -> dict[str, Any]:
    """Time the member's requests on one keep-alive connection, after a warm-up."""
    scenarios = {
        "api list (latest 50)": "/api/v1/notifications",
        "api unread count": "/api/v1/notifications/unread-count",
        "html page (latest 50 and the badge)": "/notifications",
        "api list after the newest (empty), HTTP baseline":
            f"/api/v1/notifications?after={newest}",
    }
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    results: dict[str, Any] = {}
    try:
        for name, path in scenarios.items():
            samples, body = [], b""
            for n in range(10 + requests):
                started = time.perf_counter()
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                body = response.read()
                if response.status != 200:
                    raise RuntimeError(f"{path}: {response.status} {body[:200]!r}")
                if n >= 10:
                    samples.append((time.perf_counter() - started) * 1000)
            results[name] = percentiles(samples)
            if "count" in path:
                results[name]["answer"] = json.loads(body)
    finally:
        connection.close()
    return results


def prune(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Prune as the job does, beside one bare DELETE of the same rows, rolled back first."""
    now = utcnow()
    read_before = now - timedelta(days=args.keep_read_days)
    unread_before = now - timedelta(days=args.keep_unread_days)
    with psycopg.connect(_libpq(url)) as connection:
        started = time.perf_counter()
        bare = connection.execute(
            "DELETE FROM notifications WHERE created_at < %s"
            " AND (read_at IS NOT NULL OR created_at < %s)", (read_before, unread_before)).rowcount
        bare_seconds = time.perf_counter() - started
        connection.rollback()
    started = time.perf_counter()
    deleted = retention.prune(read_before, unread_before)
    seconds = time.perf_counter() - started
    assert deleted == bare, (deleted, bare)
    return {"deleted": deleted, "batched_s": round(seconds, 2),
            "batched_rows_per_s": round(deleted / seconds) if seconds else None,
            "bare_delete_s": round(bare_seconds, 2),
            "bare_delete_rows_per_s": round(bare / bare_seconds) if bare_seconds else None}


def run(size: int, args: argparse.Namespace) -> dict[str, Any]:
    say(f"size {size:,}: seeding")
    with scratch_database(args.postgres) as url, \
            tempfile.TemporaryDirectory(prefix="maillage-bench-") as instance:
        member = seed(url, size, args)
        app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": Path(instance),
                          "MAIL_DIR": Path(instance) / "mail", "SECRET_KEY": "bench",
                          "REDIS_URL": None})
        engine = app.extensions["maillage.engine"]
        with app.app_context():
            with transaction():
                _token, secret = create_token(session.get(User, member), Scope.READ, "bench")
            newest = session.scalar(sa.text("SELECT max(id) FROM notifications"))
            total = session.scalar(sa.text("SELECT count(*) FROM notifications"))
            unread = session.scalar(sa.text(
                "SELECT count(*) FROM notifications WHERE user_id = :m AND read_at IS NULL"),
                {"m": member})
            statements = captured_sql(engine, member, member + args.members + 1)
            session.rollback()
        engine.dispose()
        say(f"size {size:,}: the bare SQL, {args.requests} times each")
        bare = bare_sql(url, statements, args.requests)
        say(f"size {size:,}: over HTTP (gunicorn), {args.rounds} rounds of {args.requests}")
        # One client asks flat out: the per-token rate limit (600 a minute) would refuse it.
        os.environ["RATE_LIMIT_TOKEN"] = "1000000 per minute"
        with server(url, instance) as port:
            rounds = [over_http(port, secret, newest, args.requests) for _ in range(args.rounds)]
        http = {name: {figure: statistics.median(r[name][figure] for r in rounds)
                       for figure in ("p50_ms", "p95_ms")} for name in rounds[0]}
        http["api unread count"]["answer"] = rounds[0]["api unread count"]["answer"]
        say(f"size {size:,}: pruning")
        with app.app_context():
            pruned = prune(url, args)
            left = queries.unread_count(member)
            session.rollback()
        engine.dispose()
    return {"member_notifications": size, "member_unread": unread, "table_rows": total,
            "http": http, "http_rounds": rounds, "bare_sql": bare["timings"],
            "plans": bare["plans"], "prune": pruned | {"member_unread_count_after": left},
            "target_p95_ms": TARGET_P95_MS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_postgres_option(parser)
    parser.add_argument("--sizes", default="10000,100000",
                        help="the member's notification counts (default: %(default)s)")
    parser.add_argument("--members", type=int, default=20_000,
                        help="other members (default: %(default)s)")
    parser.add_argument("--fanout", type=int, default=30,
                        help="other members notified of each event (default: %(default)s)")
    parser.add_argument("--member-unread", type=float, default=1.0,
                        help="the share of the member's notifications unread, the newest "
                             "(default: %(default)s, the worst case of the count)")
    parser.add_argument("--months", type=int, default=12,
                        help="months the notifications span (default: %(default)s)")
    parser.add_argument("--requests", type=int, default=200,
                        help="timed requests per scenario and round (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds over HTTP; figures are the medians of the rounds' p50 and "
                             "p95 (default: %(default)s)")
    parser.add_argument("--keep-read-days", type=int, default=90,
                        help="pruning: read notifications older than this go "
                             "(default: %(default)s)")
    parser.add_argument("--keep-unread-days", type=int, default=365,
                        help="pruning: unread ones older than this go too (default: %(default)s)")
    parser.add_argument("--explain", action="store_true",
                        help="also print the plans on stderr, readable")
    args = parser.parse_args()
    if args.members % 101 == 0:
        parser.error("--members must not be a multiple of 101")
    results = [run(int(size), args) for size in args.sizes.split(",")]
    if args.explain:
        for result in results:
            for name, plan in result["plans"].items():
                say(f"--- {name}, member with {result['member_notifications']:,}\n{plan}")
    print(json.dumps({"benchmark": "notifications", "machine": platform.node(),
                      "cores": os.cpu_count(), "load": os.getloadavg()[0],
                      "python": platform.python_version(), "requests": args.requests,
                      "rounds": args.rounds, "results": results}, indent=2, default=str))


if __name__ == "__main__":
    main()
