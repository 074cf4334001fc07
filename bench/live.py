"""Live delivery end to end: from an initiative posted through the API to its followers' sockets.

The stack runs as in production: two gunicorn gevent web processes, `maillage worker` processes,
Redis as the RQ queue and the Socket.IO message queue (a redis-server of the benchmark's own:
publish/subscribe ignores database numbers, so on a shared server other Maillage processes
would exchange live messages with this one), and a scratch PostgreSQL database with the real
communes and themes. 500 people follow one of 10 themes (50 each); each is a python-socketio
`AsyncClient`, authenticated by its personal token, half of them on each web process, all held
by asyncio event loops in client processes of their own (`--client-processes`). An author, a
verified member of Lannion, posts initiatives of one theme each, round-robin over themes and
web processes, through `POST /api/v1/initiatives`. Every process reads the same clock,
time.time().

1. Latency, at `--rate` posts a second for `--duration` seconds. For each `notification` a
   client receives: receipt time - the time its POST returned. Notification ids are tied to
   their initiative after the run, by one SQL query (notifications.event_id -> events.payload).
   The clients also listen to their theme's room, and the `activity` message (which names the
   initiative) is measured the same way. The RQ job of each initiative (its timestamps and the
   job's own timings) splits the delay into stages. Baseline, in the same run: a bare emitter
   (`flask_socketio.SocketIO(message_queue=...)`, no app) sends, at the same rate, 50
   `notification` messages a tick to the same `user:<id>` rooms; latency = receipt - the time
   its emit returned.
2. Throughput, `--repeats` times, alternating. End to end: initiatives posted at `--flood-rate`
   a second (0: as fast as `--flood-posters` concurrent posters get answers) for
   `--flood-duration` seconds; deliveries a second at the clients, first to last receipt.
   Baseline: the same number of `notification` messages, to the same rooms in the same order,
   from the bare emitter as fast as it can; deliveries a second at the clients likewise.
   Clients leave their theme rooms for this part, so both send the clients the same messages.

Every receipt is checked: duplicates, and messages that reached someone they were not for.

Each phase reports the CPU seconds of every part (clients, web, workers, this process, the
PostgreSQL backends of the scratch database, the Redis server) and of the rest of the machine
(others' work, on a shared machine), so that what the client side costs is seen.
Prints one JSON document. Run: `.venv/bin/python bench/live.py --help`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import shlex
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from redis import Redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import add_postgres_option, scratch_database
from bench.harness.clients import ACTIVITY, NOTIFICATION, Audience
from bench.harness.cpu import CpuMeter, backends_of, process_tree, processes_named
from bench.harness.people import Follower, populate
from bench.harness.processes import bench_stack, private_redis
from bench.harness.senders import BareEmitter, Post, Poster

# --- Figures -----------------------------------------------------------------------------


def percentiles(seconds: Sequence[float]) -> dict[str, float | None]:
    """p50, p90, p99 and max, in milliseconds (nearest rank)."""
    if not seconds:
        return {"p50_ms": None, "p90_ms": None, "p99_ms": None, "max_ms": None}
    ordered = sorted(seconds)

    def rank(p: float) -> float:
        return round(ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000, 1)

    return {"p50_ms": rank(50), "p90_ms": rank(90), "p99_ms": rank(99), "max_ms": rank(100)}


def rate_at_clients(times: Sequence[float]) -> float | None:
    """Deliveries a second, from the first receipt to the last."""
    if len(times) < 2 or max(times) == min(times):
        return None
    return round(len(times) / (max(times) - min(times)))


def notification_sources(database_url: str) -> dict[int, tuple[int, int]]:
    """Return notification id -> (initiative id, user id), by one query."""
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT n.id, (e.payload ->> 'initiative_id')::bigint, n.user_id"
            " FROM notifications n JOIN events e ON e.id = n.event_id"
            " WHERE e.kind = 'initiative.published'")).all()
    return {row[0]: (row[1], row[2]) for row in rows}


def event_initiatives(database_url: str) -> dict[int, int]:
    """Return event id -> initiative id of the initiative.published events."""
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT id, (payload ->> 'initiative_id')::bigint FROM events"
            " WHERE kind = 'initiative.published'")).all()
    return {row[0]: row[1] for row in rows}


def delivery_figures(receipts: list[tuple[float, int, str, int]], kind: str,
                     sent_at: dict[int, float], expected: int,
                     recipients: dict[int, set[int]],
                     initiative_of: dict[int, int] | None = None) -> dict[str, Any]:
    """Latency of the receipts of `kind`: receipt - `sent_at` of what they announce.

    `recipients` says whom each message (by the value it carries) is for: a receipt by anyone
    else is misdelivered. With `initiative_of`, a notification id is first turned into the
    initiative id that `sent_at` is keyed by.
    """
    latencies, times, seen = [], [], set()
    duplicates = misdelivered = unknown = 0
    for received, user_id, what, value in receipts:
        if what != kind:
            continue
        if (user_id, value) in seen:
            duplicates += 1
            continue
        seen.add((user_id, value))
        misdelivered += user_id not in recipients.get(value, ())
        key = initiative_of.get(value) if initiative_of is not None else value
        if key not in sent_at:
            unknown += 1
            continue
        latencies.append(received - sent_at[key])
        times.append(received)
    return {"expected": expected, "received": len(latencies), "duplicates": duplicates,
            "misdelivered": misdelivered, "unknown": unknown, **percentiles(latencies),
            "deliveries_per_second": rate_at_clients(times)}


def job_stages(redis_url: str, database_url: str, posts: list[Post],
               receipts: list[tuple[float, int, str, int]],
               source: dict[int, tuple[int, int]]) -> dict[str, Any]:
    """Medians, per initiative, of where the time goes, from its RQ job and its receipts."""
    from rq import Queue
    from rq.job import Job
    from rq.registry import FinishedJobRegistry

    connection = Redis.from_url(redis_url)
    initiative_of = event_initiatives(database_url)
    jobs = {}
    registry = FinishedJobRegistry(queue=Queue("events", connection=connection))
    for job in Job.fetch_many(registry.get_job_ids(), connection=connection):
        if job is not None and job.args and job.args[0] in initiative_of:
            jobs[initiative_of[job.args[0]]] = job
    received: dict[int, list[float]] = defaultdict(list)
    for at, _user, what, value in receipts:
        if what == NOTIFICATION and value in source:
            received[source[value][0]].append(at)
    stages: dict[str, list[float]] = defaultdict(list)
    for post in posts:
        job = jobs.get(post.initiative_id)
        if job is None or not received.get(post.initiative_id):
            continue
        started, ended = _epoch(job.started_at), _epoch(job.ended_at)
        outcome = job.return_value()
        stages["post_api"].append(post.returned - post.sent)
        stages["post_returned_to_job_started"].append(started - post.returned)
        stages["job_started_to_notifications_committed"].append(outcome.persisted_seconds)
        stages["job_started_to_last_emit"].append(outcome.delivered_seconds)
        stages["job_started_to_rq_done"].append(ended - started)
        stages["post_returned_to_first_receipt"].append(min(received[post.initiative_id])
                                                        - post.returned)
        stages["post_returned_to_last_receipt"].append(max(received[post.initiative_id])
                                                       - post.returned)
    return {"initiatives": len(stages["post_api"]),
            **{f"{name}_ms": round(statistics.median(values) * 1000, 1)
               for name, values in stages.items()}}


def _epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def post_figures(posts: list[Post]) -> dict[str, Any]:
    ok = [post for post in posts if post.initiative_id is not None]
    span = max(p.returned for p in posts) - min(p.sent for p in posts) if posts else 0
    return {"sent": len(posts), "created": len(ok),
            "failed": [p.error or f"HTTP {p.status}" for p in posts if p.initiative_id is None],
            "per_second": round(len(ok) / span, 1) if span else None,
            "api": percentiles([p.returned - p.sent for p in posts])}


def cpu_per(cpu: dict[str, Any], count: int, unit: str) -> dict[str, float]:
    """CPU of each part divided by `count` (initiatives or messages), in ms or µs."""
    scale = {"ms": 1e3, "us": 1e6}[unit]
    return {role: round(seconds * scale / count, 1) for role, seconds in cpu["cpu_s"].items()
            if role != "rest_of_machine"} if count else {}


def end_to_end_figures(posts: list[Post], receipts: list[tuple[float, int, str, int]],
                       followers_of: dict[str, list[int]], per_theme: int,
                       source: dict[int, tuple[int, int]]) -> dict[str, Any]:
    """Latency of the notifications and activities of `posts`, from each POST's return."""
    created = [post for post in posts if post.initiative_id is not None]
    returned = {post.initiative_id: post.returned for post in created}
    expected = len(created) * per_theme
    return {
        "notification": delivery_figures(
            receipts, NOTIFICATION, returned, expected,
            recipients={nid: {user_id} for nid, (_i, user_id) in source.items()},
            initiative_of={nid: initiative_id for nid, (initiative_id, _u) in source.items()}),
        "activity": delivery_figures(
            receipts, ACTIVITY, returned, expected,
            recipients={post.initiative_id: set(followers_of[post.theme]) for post in created}),
    }


def bare_figures(emitted: dict[int, tuple[int, float]],
                 receipts: list[tuple[float, int, str, int]]) -> dict[str, Any]:
    """Latency of the bare emitter's messages, from the return of each emit."""
    return delivery_figures(receipts, NOTIFICATION,
                            {nid: at for nid, (_user, at) in emitted.items()}, len(emitted),
                            recipients={nid: {user} for nid, (user, _at) in emitted.items()})


def listen_to_theme_rooms(audience: Audience, listen: bool) -> None:
    """Have every client join (or leave) the room of the theme it follows."""
    done = sum(audience.ask("subscribe" if listen else "unsubscribe"))
    if done != audience.connected:
        raise RuntimeError(f"{done} of {audience.connected} clients changed rooms")


# --- The phases --------------------------------------------------------------------------


def measure_latency(args: argparse.Namespace, audience: Audience, poster: Poster,
                    emitter: BareEmitter, meter: CpuMeter, followers_of: dict[str, list[int]],
                    database_url: str, redis_url: str) -> dict[str, Any]:
    """Posts at `--rate` for `--duration` s, then the bare emitter at the same pace."""
    listen_to_theme_rooms(audience, True)
    audience.collect()
    meter.start()
    posts = poster.at_rate(args.rate, args.duration)
    created = [post for post in posts if post.initiative_id is not None]
    audience.await_deliveries(len(created) * args.per_theme, len(created) * args.per_theme)
    cpu = meter.stop()
    receipts = audience.collect()
    source = notification_sources(database_url)
    end_to_end = {
        "posts": post_figures(posts),
        **end_to_end_figures(posts, receipts, followers_of, args.per_theme, source),
        "stages_median": job_stages(redis_url, database_url, created, receipts, source),
        "cpu": cpu, "cpu_ms_per_initiative": cpu_per(cpu, len(created), "ms"),
    }
    listen_to_theme_rooms(audience, False)

    batches = [followers_of[poster.themes[n % len(poster.themes)]]
               for n in range(round(args.rate * args.duration))]
    meter.start()
    emitted = emitter.at_rate(batches, args.rate)
    audience.await_deliveries(len(emitted))
    cpu = meter.stop()
    bare = {"messages_sent": len(emitted),
            "notification": bare_figures(emitted, audience.collect()),
            "cpu": cpu, "cpu_us_per_message": cpu_per(cpu, len(emitted), "us")}
    p50, p99 = (end_to_end["notification"][key] for key in ("p50_ms", "p99_ms"))
    return {"rate_per_second": args.rate, "duration_s": args.duration,
            "end_to_end": end_to_end, "baseline_bare_emitter": bare,
            "targets": {"p50_under_30_ms": p50 is not None and p50 < 30,
                        "p99_under_100_ms": p99 is not None and p99 < 100}}


def measure_throughput(args: argparse.Namespace, audience: Audience, poster: Poster,
                       emitter: BareEmitter, meter: CpuMeter,
                       followers_of: dict[str, list[int]], database_url: str) -> dict[str, Any]:
    """End to end flat out, then the bare emitter with as many messages; `--repeats` times."""
    runs = []
    for _repeat in range(args.repeats):
        audience.collect()
        meter.start()
        if args.flood_rate:
            posts = poster.at_rate(args.flood_rate, args.flood_duration)
        else:
            posts = poster.flat_out(args.flood_duration, args.flood_posters)
        created = [post for post in posts if post.initiative_id is not None]
        audience.await_deliveries(len(created) * args.per_theme)
        cpu = meter.stop()
        figures = end_to_end_figures(posts, audience.collect(), followers_of, args.per_theme,
                                     notification_sources(database_url))
        end_to_end = {"posts": post_figures(posts), "notification": figures["notification"],
                      "cpu": cpu, "cpu_ms_per_initiative": cpu_per(cpu, len(created), "ms")}
        time.sleep(2)

        meter.start()
        emitted, seconds = emitter.flat_out(
            [user_id for post in created for user_id in followers_of[post.theme]])
        audience.await_deliveries(len(emitted))
        cpu = meter.stop()
        bare = {"messages_sent": len(emitted),
                "emitted_per_second": round(len(emitted) / seconds) if seconds else None,
                "notification": bare_figures(emitted, audience.collect()),
                "cpu": cpu, "cpu_us_per_message": cpu_per(cpu, len(emitted), "us")}
        runs.append({"end_to_end": end_to_end, "baseline_bare_emitter": bare})
        time.sleep(2)

    def median(part: str) -> float | None:
        values = [rate for run in runs
                  if (rate := run[part]["notification"]["deliveries_per_second"])]
        return round(statistics.median(values)) if values else None

    e2e, bare = median("end_to_end"), median("baseline_bare_emitter")
    return {"flood_rate_per_second": args.flood_rate or "as fast as the API answers",
            "flood_posters": None if args.flood_rate else args.flood_posters,
            "flood_duration_s": args.flood_duration, "repeats": args.repeats,
            "end_to_end_deliveries_per_second_median": e2e,
            "baseline_bare_emitter_deliveries_per_second_median": bare,
            "end_to_end_over_baseline": round(e2e / bare, 2) if e2e and bare else None,
            "target_at_least_half_of_baseline": bool(e2e and bare and e2e >= bare / 2),
            "reference_not_measured_here": "a bare gevent Socket.IO server delivers about "
            "17,000 to 20,000 messages a second to 200 clients on this machine (the issue)",
            "runs": runs}


# --- Main --------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_postgres_option(parser)
    parser.add_argument("--redis", default=None,
                        help="use this Redis database (flushed at start and end) instead of a "
                        "private redis-server; its server's other users share Socket.IO "
                        "messages with the benchmark, whatever their database number")
    parser.add_argument("--workers", type=int, default=2,
                        help="`maillage worker` processes (one a core: with one, the worker, "
                        "waiting on PostgreSQL and Redis, limits the throughput before the CPU)")
    parser.add_argument("--client-processes", type=int, default=1,
                        help="processes holding the clients, one asyncio loop each")
    parser.add_argument("--themes", type=int, default=10, help="themes followed")
    parser.add_argument("--per-theme", type=int, default=50, help="followers of each theme")
    parser.add_argument("--rate", type=float, default=20, help="posts a second, latency part")
    parser.add_argument("--duration", type=float, default=60, help="seconds, latency part")
    parser.add_argument("--flood-rate", type=float, default=0,
                        help="posts a second, throughput part (0: as fast as answered)")
    parser.add_argument("--flood-posters", type=int, default=4,
                        help="concurrent posters when --flood-rate is 0")
    parser.add_argument("--flood-duration", type=float, default=20,
                        help="seconds of posting, throughput part")
    parser.add_argument("--repeats", type=int, default=3, help="throughput runs of each kind")
    return parser.parse_args()


def stop_cleanly_on_signals() -> None:
    """Make SIGTERM and SIGINT unwind the stack, so that everything started is stopped.

    Python's default for SIGTERM ends the process without running `finally`; a shell that
    starts a command in the background makes it ignore SIGINT.
    """
    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def check_tools(args: argparse.Namespace) -> None:
    """Stop early, saying what to install, when a tool the benchmark needs is missing."""
    if importlib.util.find_spec("aiohttp") is None:
        raise SystemExit("bench/live.py needs aiohttp for its asyncio Socket.IO clients (not "
                         "a dependency of the project): .venv/bin/pip install aiohttp")
    if not args.redis and shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not on the PATH: install it, or give --redis")


def main() -> None:
    args = parse_args()
    check_tools(args)
    stop_cleanly_on_signals()
    report: dict[str, Any] = {
        "benchmark": "live", "date": date.today().isoformat(),
        "command": shlex.join([sys.executable, *sys.argv]),
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version()},
        "setup": {"web_processes": 2, "workers": args.workers, "clients": 0,
                  "client_processes": args.client_processes, "themes": args.themes,
                  "followers_per_theme": args.per_theme,
                  "redis": args.redis or "a private redis-server"},
    }
    with ExitStack() as cleanup:
        folder = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="live-")))
        if args.redis:
            redis_url, redis_pids = args.redis, processes_named("redis-server")
        else:
            redis_url, pid = cleanup.enter_context(private_redis(folder))
            redis_pids = [pid]
        redis = Redis.from_url(redis_url, socket_connect_timeout=2)
        redis.flushdb()
        cleanup.callback(redis.flushdb)
        database_url = cleanup.enter_context(scratch_database(args.postgres))
        author_token, followers = populate(database_url, redis_url, args.themes,
                                           args.per_theme)
        stack = cleanup.enter_context(bench_stack(database_url, redis_url, args.workers,
                                                  folder))
        followers = [Follower(f.user_id, f.theme, f.token, stack.urls[n % 2])
                     for n, f in enumerate(followers)]
        audience = Audience(followers, args.client_processes)
        cleanup.callback(audience.close)
        report["setup"]["clients"] = audience.connected
        followers_of: dict[str, list[int]] = defaultdict(list)
        for follower in followers:
            followers_of[follower.theme].append(follower.user_id)
        web, workers = process_tree(stack.web_pids), process_tree(stack.worker_pids)
        meter = CpuMeter({
            "clients": lambda: audience.pids, "web": lambda: web, "workers": lambda: workers,
            "poster_or_emitter": lambda: [os.getpid()],
            "postgres_our_database": backends_of(database_url),
            "redis_server": lambda: redis_pids})
        poster = Poster(stack.urls, author_token, sorted(followers_of))
        emitter = BareEmitter(redis_url)
        report["latency"] = measure_latency(args, audience, poster, emitter, meter,
                                            followers_of, database_url, redis_url)
        report["throughput"] = measure_throughput(args, audience, poster, emitter, meter,
                                                  followers_of, database_url)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
