"""Where jobs go: RQ on Redis in services mode, a worker thread in the embedded mode.

Both run the same job functions (from `workers/`), with the same retries, so the embedded
mode behaves like production, only in one process. Which one an app uses is decided once, in
`init_app`, from REDIS_URL.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from werkzeug.utils import import_string

from maillage.database import after_commit
from maillage.jobs import Job

log = logging.getLogger(__name__)

# Seconds before each retry of a failing job; then it lands in RQ's failed registry.
RETRY_INTERVALS = [2, 10, 60, 300, 1800]
FAILURE_TTL = 30 * 24 * 3600


class Queues(Protocol):
    """What the application needs from a job queue."""

    def enqueue(self, queue_name: str, func: Callable[..., Any] | str, *args: Any,
                job_id: str) -> bool:
        """Queue `func(*args)` once under `job_id`; False when the queue could not be reached.

        `func` may be the dotted path of a job in `workers/`, so that the domain never
        imports its consumers.
        """


class RedisQueues:
    """RQ queues on Redis; a Redis that does not answer makes `enqueue` return False.

    `job_id` becomes the job's description, not its RQ id: a job of a worker killed mid-run
    keeps its id in RQ's registries for a while, and must not stop the same work from being
    queued again. Jobs are safe to run twice, so a duplicate costs a no-op.
    """

    def __init__(self, redis_url: str, retry_scale: float = 1.0) -> None:
        self.connection = Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=2)
        self.retry = Retry(max=len(RETRY_INTERVALS),
                           interval=[round(i * retry_scale) for i in RETRY_INTERVALS])

    def queue(self, name: str) -> Queue:
        return Queue(name, connection=self.connection)

    def enqueue(self, queue_name: str, func: Callable[..., Any] | str, *args: Any,
                job_id: str) -> bool:
        try:
            # A job's name as a plain str (a `Job` is a StrEnum): RQ stores what it is given.
            self.queue(queue_name).enqueue(str(func) if isinstance(func, str) else func, *args,
                                           description=job_id, retry=self.retry,
                                           failure_ttl=FAILURE_TTL)
        except RedisError as error:
            log.warning("Could not queue %s: %s; the sweeper will queue it again", job_id, error)
            return False
        return True


@dataclass
class _Job:
    func: Callable[..., Any]
    args: tuple[Any, ...]
    job_id: str
    attempt: int = 0
    every: float | None = None


class ThreadQueues:
    """A worker thread inside the web process, for the embedded mode.

    Jobs run one at a time, in order, each in its own app context; a failing job is retried
    after the same intervals as on RQ (scaled by `retry_scale`, which tests shorten).
    """

    def __init__(self, app: Flask, retry_scale: float = 1.0) -> None:
        self.app = app
        self.retry_scale = retry_scale
        self.condition = threading.Condition()
        self.ready: deque[_Job] = deque()
        self.later: list[tuple[float, int, _Job]] = []
        self.sequence = itertools.count()
        self.pending: set[str] = set()
        self.outstanding = 0
        self.failed: dict[str, BaseException] = {}
        self.worker: threading.Thread | None = None

    def _start(self) -> None:
        # Started on first use, so that apps that never queue anything cost no thread.
        if self.worker is None:
            self.worker = threading.Thread(target=self._work, name="maillage-jobs", daemon=True)
            self.worker.start()

    def enqueue(self, queue_name: str, func: Callable[..., Any] | str, *args: Any,
                job_id: str) -> bool:
        if isinstance(func, str):
            func = import_string(func)
        with self.condition:
            self._start()
            if job_id not in self.pending:
                self.pending.add(job_id)
                self.outstanding += 1
                self.ready.append(_Job(func, args, job_id))
                self.condition.notify_all()
        return True

    def every(self, seconds: float, func: Callable[[], Any] | str, job_id: str) -> None:
        """Run `func` now and then every `seconds`, like the scheduler does with RQ."""
        if isinstance(func, str):
            func = import_string(func)
        with self.condition:
            self._start()
            self.ready.append(_Job(func, (), job_id, every=seconds))
            self.condition.notify_all()

    def join(self, timeout: float | None = None) -> bool:
        """Wait until every queued job, retries included, has run; False on time-out."""
        with self.condition:
            return self.condition.wait_for(lambda: self.outstanding == 0, timeout)

    def _later(self, delay: float, job: _Job) -> None:
        heapq.heappush(self.later, (time.monotonic() + delay, next(self.sequence), job))
        self.condition.notify_all()

    def _next(self) -> _Job:
        with self.condition:
            while True:
                now = time.monotonic()
                while self.later and self.later[0][0] <= now:
                    self.ready.append(heapq.heappop(self.later)[2])
                if self.ready:
                    return self.ready.popleft()
                self.condition.wait(self.later[0][0] - now if self.later else None)

    def _work(self) -> None:
        while True:
            job = self._next()
            try:
                with self.app.app_context():
                    job.func(*job.args)
            except Exception as error:
                with self.condition:
                    if job.every is None and job.attempt < len(RETRY_INTERVALS):
                        log.warning("Job %s failed (%s); retrying", job.job_id, error)
                        job.attempt += 1
                        self._later(RETRY_INTERVALS[job.attempt - 1] * self.retry_scale, job)
                        continue
                    log.exception("Job %s failed", job.job_id)
                    self.failed[job.job_id] = error
            with self.condition:
                if job.every is not None:
                    self._later(job.every, job)
                    continue
                self.pending.discard(job.job_id)
                self.outstanding -= 1
                self.condition.notify_all()


def init_app(app: Flask) -> None:
    """Give the app its queues: RQ when REDIS_URL is set, the worker thread otherwise."""
    scale = app.config.get("JOB_RETRY_SCALE", 1.0)
    if app.config["REDIS_URL"]:
        app.extensions["maillage.queues"] = RedisQueues(app.config["REDIS_URL"], scale)
    else:
        app.extensions["maillage.queues"] = ThreadQueues(app, retry_scale=scale)


def start_sweeping(app: Flask) -> None:
    """In the embedded mode, sweep the outbox and the digests left unsent, and escalate
    unanswered help requests from the worker thread, as the scheduler does.

    Only the serving process does it: a command that merely migrates has no outbox yet.
    """
    queues = app.extensions["maillage.queues"]
    if isinstance(queues, ThreadQueues) and app.config.get("SWEEP_INTERVAL"):
        queues.every(app.config["SWEEP_INTERVAL"], Job.SWEEP_OUTBOX, "sweep-outbox")
        queues.every(app.config["SWEEP_INTERVAL"], Job.SWEEP_DIGESTS, "sweep-digests")
    if isinstance(queues, ThreadQueues) and app.config.get("HELP_ESCALATION_INTERVAL"):
        queues.every(app.config["HELP_ESCALATION_INTERVAL"], Job.ESCALATE_HELP, "escalate-help")


def enqueue_after_commit(queue_name: str, func: Callable[..., Any] | str, *args: Any,
                         job_id: str) -> None:
    """Queue a job once the current transaction has committed, and never if it rolls back."""
    def enqueue() -> None:
        current_app.extensions["maillage.queues"].enqueue(queue_name, func, *args,
                                                          job_id=job_id)

    after_commit(enqueue)
