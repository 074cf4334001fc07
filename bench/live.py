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
import asyncio
import importlib.util
import itertools
import json
import math
import multiprocessing
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa
from redis import Redis
from redis.exceptions import RedisError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import scratch_database
from maillage.accounts import operations as accounts
from maillage.accounts.models import Role, Scope, User, VerificationSource
from maillage.app import create_app
from maillage.database import session, transaction, utcnow
from maillage.follows.models import Follow
from maillage.themes.models import Theme
from maillage.themes.operations import load_themes
from maillage.towns.operations import import_communes
from tests.support.net import free_port, wait_for

LANNION = "22113"
BIN = Path(sys.executable).parent
NOTIFICATION, ACTIVITY = "n", "a"
BARE_IDS = 10**12  # ids of the bare emitter's messages, far above the database's


# --- The people --------------------------------------------------------------------------


@dataclass(frozen=True)
class Follower:
    user_id: int
    theme: str
    token: str
    url: str = ""


def populate(database_url: str, redis_url: str, themes: int,
             per_theme: int) -> tuple[str, list[Follower]]:
    """Fill the database; return the author's write token and the followers, with tokens."""
    app = create_app({"DATABASE_URL": database_url, "REDIS_URL": redis_url,
                      "SECRET_KEY": "bench", "SWEEP_INTERVAL": None})
    with app.app_context(), transaction():
        import_communes()
        load_themes()
        slugs = list(session.scalars(sa.select(Theme.slug).order_by(Theme.slug)
                                     .limit(themes)))
        add_followers(slugs, per_theme)
        author = accounts.create_user("author@bench.test", "Author", confirmed=True)
        membership = accounts.join_town(author, LANNION, Role.AGENT)
        accounts.verify_membership(membership, None, VerificationSource.ADMIN)
        _token, author_secret = accounts.create_token(author, Scope.WRITE, "bench")
        followers = []
        rows = session.execute(sa.select(User, Theme.slug)
                               .join(Follow, Follow.user_id == User.id)
                               .join(Theme, Theme.id == Follow.theme_id)
                               .order_by(User.id)).all()
        for user, slug in rows:
            _token, secret = accounts.create_token(user, Scope.READ, "bench")
            followers.append(Follower(user.id, slug, secret))
    app.extensions["maillage.engine"].dispose()
    return author_secret, followers


def add_followers(slugs: Sequence[str], per_theme: int) -> None:
    """Insert `per_theme` new users following each theme, in bulk."""
    now = utcnow()
    rows = [{"email": f"f{n}@bench.test", "display_name": f"F {n}", "is_admin": False,
             "is_moderator": False, "locale": "fr", "created_at": now}
            for n in range(len(slugs) * per_theme)]
    session.execute(sa.insert(User), rows)
    ids = list(session.scalars(sa.select(User.id).where(User.email.like("f%@bench.test"))
                               .order_by(User.id)))
    theme_ids = dict(session.execute(sa.select(Theme.slug, Theme.id)
                                     .where(Theme.slug.in_(slugs))).all())
    session.execute(sa.insert(Follow), [
        {"user_id": user_id, "target": "theme", "created_at": now,
         "theme_id": theme_ids[slugs[n // per_theme]]} for n, user_id in enumerate(ids)])


# --- The processes -----------------------------------------------------------------------


@dataclass
class Stack:
    urls: list[str]
    web_pids: list[int]
    worker_pids: list[int]
    logs: Path






@contextmanager
def private_redis(folder: Path) -> Iterator[tuple[str, int]]:
    """Run a Redis server of the benchmark's own, without persistence; yield its URL and pid.

    Redis publish/subscribe ignores database numbers: on a shared server, every Maillage
    process subscribed to the Socket.IO channel, whatever its database, gets every message,
    and delivers it to its own sockets in the rooms of the same name.
    """
    port = free_port()
    with open(folder / "redis.log", "wb") as log:
        server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                   "--save", "", "--appendonly", "no", "--dir", str(folder)],
                                  stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 10
        while True:
            try:
                Redis.from_url(url, socket_connect_timeout=1).ping()
                break
            except RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield url, server.pid
    finally:
        server.terminate()
        server.wait(10)


@contextmanager
def running_stack(database_url: str, redis_url: str, workers: int,
                  folder: Path) -> Iterator[Stack]:
    """Start two gunicorn gevent web processes and `workers` workers; stop them at the end."""
    # One author posts 20 initiatives a second, far beyond what the rate limits allow a
    # person: they are raised here, since this measures the pipeline, not the limiter.
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
           "SECRET_KEY": "bench-live", "MAILLAGE_INSTANCE": str(folder),
           "RATE_LIMIT_WRITE": "100000 per minute", "RATE_LIMIT_TOKEN": "100000 per minute"}
    ports = [free_port(), free_port()]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for port in ports:
            with open(folder / f"web-{port}.log", "wb") as log:
                processes.append(subprocess.Popen(
                    [str(BIN / "gunicorn"), "--worker-class", "gevent", "--workers", "1",
                     "--bind", f"127.0.0.1:{port}", "--no-control-socket",
                     "--graceful-timeout", "2", "--log-level", "warning", "maillage.wsgi:app"],
                    env=env, stdout=log, stderr=subprocess.STDOUT))
        for number in range(workers):
            with open(folder / f"worker-{number}.log", "wb") as log:
                processes.append(subprocess.Popen([str(BIN / "maillage"), "worker"], env=env,
                                                  stdout=log, stderr=subprocess.STDOUT))
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url in urls:
            wait_for(f"{url}/api/v1/themes")
        yield Stack(urls, [p.pid for p in processes[:2]], [p.pid for p in processes[2:]],
                    folder)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# --- CPU accounting ----------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2:].split()  # the fields after the command name


def process_tree(pids: Sequence[int]) -> list[int]:
    """Return `pids` and all their descendants (gunicorn's worker is its master's child)."""
    parents: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(_stat(int(entry.name))[1])].append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    found, todo = [], list(pids)
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def processes_named(*names: str) -> list[int]:
    """Return the ids of the processes whose command name is one of `names`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in names:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds used so far by process `pid`; None when it is gone."""
    try:
        fields = _stat(pid)
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent not idle, on all cores, since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICK


def backends_of(database_url: str) -> Callable[[], list[int]]:
    """Return a function listing the PostgreSQL backends serving our database (not others')."""
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)

    def backends() -> list[int]:
        with engine.connect() as connection:
            return list(connection.scalars(sa.text(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()")))

    return backends


class CpuMeter:
    """CPU seconds used by each part of the benchmark between `start` and `stop`.

    Each role is a function listing its processes; one that appears during a phase counts
    whole. The rest of the machine (other people's work on a shared machine) is what the
    machine spent beyond all the roles.
    """

    def __init__(self, roles: dict[str, Callable[[], list[int]]]) -> None:
        self.roles = roles

    def _snapshot(self) -> dict[str, dict[int, float]]:
        return {role: {pid: used for pid in pids() if (used := cpu_seconds(pid)) is not None}
                for role, pids in self.roles.items()}

    def start(self) -> None:
        self.before = self._snapshot()
        self.wall = time.time()
        self.machine = machine_busy_seconds()

    def stop(self) -> dict[str, Any]:
        wall = time.time() - self.wall
        machine = machine_busy_seconds() - self.machine
        after = self._snapshot()
        used = {role: sum(seconds - self.before[role].get(pid, 0.0)
                          for pid, seconds in after[role].items())
                for role in self.roles}
        used["rest_of_machine"] = machine - sum(used.values())
        return {"wall_s": round(wall, 2),
                "cpu_s": {role: round(seconds, 2) for role, seconds in used.items()},
                "cores_busy": {role: round(seconds / wall, 2) for role, seconds in used.items()},
                "machine_cores_busy": round(machine / wall, 2)}


# --- The clients (in processes of their own) ---------------------------------------------


async def hold_clients(conn: Any, followers: list[Follower]) -> None:
    """Connect one AsyncClient per follower, record what they receive, obey `conn`'s orders.

    A receipt is (time.time(), user id, "n" and the notification id, or "a" and the initiative
    id of an activity).
    """
    import socketio

    receipts: list[tuple[float, int, str, int]] = []
    clients: list[tuple[Follower, Any]] = []
    gate = asyncio.Semaphore(25)

    def listen(follower: Follower) -> Any:
        client = socketio.AsyncClient(reconnection=False)
        uid = follower.user_id
        client.on("notification",
                  lambda data: receipts.append((time.time(), uid, NOTIFICATION, data["id"])))
        client.on("activity", lambda data: receipts.append(
            (time.time(), uid, ACTIVITY, data["initiative_id"])))
        return client

    async def connect(follower: Follower) -> None:
        client = listen(follower)
        async with gate:
            await client.connect(follower.url, auth={"token": follower.token},
                                 transports=["websocket"], wait_timeout=30)
        clients.append((follower, client))

    async def rooms(event: str) -> int:
        answers = await asyncio.gather(*(
            client.call(event, {"rooms": [f"theme:{follower.theme}"]}, timeout=30)
            for follower, client in clients))
        return sum(len(answer["rooms"]) for answer in answers)

    failures = [repr(error) for error in await asyncio.gather(
        *(connect(follower) for follower in followers), return_exceptions=True) if error]
    conn.send(("connected", len(clients), failures[:3]))
    loop = asyncio.get_running_loop()
    while True:
        order = await loop.run_in_executor(None, conn.recv)
        if order == "count":
            conn.send((sum(1 for r in receipts if r[2] == NOTIFICATION),
                       sum(1 for r in receipts if r[2] == ACTIVITY)))
        elif order == "collect":
            conn.send(receipts[:])
            receipts.clear()
        elif order in ("subscribe", "unsubscribe"):
            conn.send(await rooms(order))
        elif order == "stop":
            await asyncio.gather(*(client.disconnect() for _follower, client in clients),
                                 return_exceptions=True)
            conn.send("stopped")
            return


def client_process(conn: Any, followers: list[Follower]) -> None:
    asyncio.run(hold_clients(conn, followers))


class Audience:
    """The client processes, each holding an asyncio loop of clients, driven through pipes."""

    def __init__(self, followers: list[Follower], processes: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes, self.processes = [], []
        for number in range(processes):
            ours, theirs = context.Pipe()
            process = context.Process(target=client_process, daemon=True,
                                      args=(theirs, followers[number::processes]))
            process.start()
            self.pipes.append(ours)
            self.processes.append(process)
        replies = [self._receive(pipe, 120) for pipe in self.pipes]
        self.connected = sum(reply[1] for reply in replies)
        failures = [failure for reply in replies for failure in reply[2]]
        if self.connected != len(followers):
            raise RuntimeError(f"{self.connected} of {len(followers)} clients connected: "
                               f"{failures}")

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes if process.pid]

    @staticmethod
    def _receive(pipe: Any, timeout: float) -> Any:
        if not pipe.poll(timeout):
            raise RuntimeError(f"a client process did not answer within {timeout} s")
        return pipe.recv()

    def ask(self, order: str, timeout: float = 120) -> list[Any]:
        for pipe in self.pipes:
            pipe.send(order)
        return [self._receive(pipe, timeout) for pipe in self.pipes]

    def counts(self) -> tuple[int, int]:
        replies = self.ask("count")
        return sum(r[0] for r in replies), sum(r[1] for r in replies)

    def collect(self) -> list[tuple[float, int, str, int]]:
        """Return the receipts since the last collect, and forget them."""
        return [receipt for reply in self.ask("collect") for receipt in reply]

    def close(self) -> None:
        for process, pipe in zip(self.processes, self.pipes, strict=True):
            if process.is_alive():
                try:
                    pipe.send("stop")
                    pipe.poll(30)
                except OSError:
                    pass
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join()

    def await_deliveries(self, notifications: int, activities: int = 0,
                         quiet: float = 10, limit: float = 300) -> None:
        """Wait until the counts are reached, or nothing came for `quiet` s, or `limit` s."""
        started = last_change = time.monotonic()
        seen = (-1, -1)
        while time.monotonic() - started < limit:
            counts = self.counts()
            if counts[0] >= notifications and counts[1] >= activities:
                return
            if counts != seen:
                seen, last_change = counts, time.monotonic()
            elif time.monotonic() - last_change > quiet:
                return
            time.sleep(0.2)


# --- The senders -------------------------------------------------------------------------


@dataclass
class Post:
    number: int
    theme: str
    sent: float
    returned: float = 0.0
    initiative_id: int | None = None
    status: int = 0
    error: str = ""


class Poster:
    """The author posting initiatives, one theme each in turn, round-robin over the web."""

    def __init__(self, urls: list[str], token: str, themes: list[str]) -> None:
        self.urls, self.token, self.themes = urls, token, themes
        self.local = threading.local()

    def _http(self) -> requests.Session:
        """This thread's HTTP session, one connection a POST.

        A reused connection fails now and then under load: gunicorn's gevent worker closes a
        connection after 2 s without a request, and when its event loop is stalled that long,
        it closes one whose next request is already waiting, which resets it.
        """
        if not hasattr(self.local, "http"):
            self.local.http = requests.Session()
            self.local.http.headers.update({"Authorization": f"Bearer {self.token}",
                                            "Connection": "close"})
        return self.local.http

    def post(self, number: int) -> Post:
        theme = self.themes[number % len(self.themes)]
        post = Post(number, theme, time.time())
        try:
            response = self._http().post(
                f"{self.urls[number % len(self.urls)]}/api/v1/initiatives", timeout=30,
                json={"town": LANNION, "title": f"Initiative {number}", "themes": [theme],
                      "summary": "Un banc d'essai de la livraison en direct.",
                      "body": "Mesurée de la publication à l'écran."})
            post.status = response.status_code
            if response.status_code == 201:
                post.initiative_id = response.json()["id"]
        except requests.RequestException as error:
            post.status, post.error = -1, repr(error)
        post.returned = time.time()
        return post

    def at_rate(self, rate: float, duration: float, concurrency: int = 32) -> list[Post]:
        """Post `rate` a second for `duration` s, on schedule even when an answer is slow."""
        count = round(rate * duration)
        start = time.monotonic() + 0.05
        with ThreadPoolExecutor(concurrency) as pool:
            futures = []
            for number in range(count):
                time.sleep(max(0.0, start + number / rate - time.monotonic()))
                futures.append(pool.submit(self.post, number))
            return [future.result() for future in futures]

    def flat_out(self, duration: float, posters: int) -> list[Post]:
        """Post for `duration` s from `posters` threads, each as soon as its last answered."""
        numbers = itertools.count()
        deadline = time.monotonic() + duration

        def keep_posting() -> list[Post]:
            done = []
            while time.monotonic() < deadline:
                done.append(self.post(next(numbers)))
            return done

        with ThreadPoolExecutor(posters) as pool:
            batches = list(pool.map(lambda _n: keep_posting(), range(posters)))
        return sorted((post for batch in batches for post in batch), key=lambda p: p.number)


class BareEmitter:
    """The baseline: Flask-SocketIO's external emitter, no app, no database, same Redis."""

    def __init__(self, redis_url: str) -> None:
        from flask_socketio import SocketIO

        self.socketio = SocketIO(message_queue=redis_url)
        self.ids = itertools.count(BARE_IDS)

    def emit(self, user_id: int) -> tuple[int, float]:
        """Send one notification to `user_id`'s room; return its id and when emit returned."""
        notification_id = next(self.ids)
        self.socketio.emit("notification", {"id": notification_id}, to=f"user:{user_id}")
        return notification_id, time.time()

    def at_rate(self, batches: list[list[int]], rate: float) -> dict[int, tuple[int, float]]:
        """Emit batch n (one message per user id) at `n / rate` s.

        Returns message id -> (user id, when its emit returned).
        """
        emitted = {}
        start = time.monotonic() + 0.05
        for number, batch in enumerate(batches):
            time.sleep(max(0.0, start + number / rate - time.monotonic()))
            for user_id in batch:
                notification_id, at = self.emit(user_id)
                emitted[notification_id] = (user_id, at)
        return emitted

    def flat_out(self, user_ids: list[int]) -> tuple[dict[int, tuple[int, float]], float]:
        """Emit to each of `user_ids` in order, as fast as possible.

        Returns message id -> (user id, when its emit returned), and the seconds it took.
        """
        emitted = {}
        started = time.perf_counter()
        for user_id in user_ids:
            notification_id, at = self.emit(user_id)
            emitted[notification_id] = (user_id, at)
        return emitted, time.perf_counter() - started


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
    parser.add_argument("--postgres", default="postgresql://127.0.0.1:5432/postgres",
                        help="a PostgreSQL server where a scratch database is made and dropped")
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
        stack = cleanup.enter_context(running_stack(database_url, redis_url, args.workers,
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
