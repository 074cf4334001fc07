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
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import RedisError, WatchError
from rq import Queue, Retry
from rq.job import Job as RQJob
from rq.job import JobStatus
from werkzeug.utils import import_string

from maillage.database import after_commit
from maillage.jobs import Job

log = logging.getLogger(__name__)

# Seconds before each retry of a failing job; then it lands in RQ's failed registry.
RETRY_INTERVALS = [2, 10, 60, 300, 1800]
FAILURE_TTL = 30 * 24 * 3600
# The states of a job that will run: the same work is not queued beside it.
WILL_RUN = {status.value for status in (JobStatus.QUEUED, JobStatus.STARTED,
                                         JobStatus.SCHEDULED, JobStatus.DEFERRED)}


class Queues(Protocol):
    """What the application needs from a job queue."""

    def enqueue(self, queue_name: str, func: Callable[..., Any] | str, *args: Any,
                job_id: str, delay: float = 0, timeout: int | None = None) -> bool:
        """Queue `func(*args)` under `job_id`, to run in `delay` seconds, unless a job of that
        id is queued, running or waiting for a retry; False when the queue could not be
        reached. A job running past `timeout` seconds (RQ's default, 180, when None) is
        stopped, and retried.

        `func` may be the dotted path of a job in `workers/`, so that the domain never
        imports its consumers.
        """

    def forget(self, queue_name: str, job_ids: list[str]) -> None:
        """Drop the jobs of `job_ids` still waiting in the queue: their work was done by
        another job. Best effort: a job already taken, or one left by an error, runs and
        finds nothing to do."""


class RedisQueues:
    """RQ queues on Redis; a Redis that does not answer makes `enqueue` return False.

    `job_id` is the RQ job's id, and a job is queued only when no job of that id will run
    (queued, running, or waiting for a retry): a sweep or a replay beside a job queued or
    running adds nothing, where a duplicate would hold a worker waiting on the first one's
    lock. A job whose worker was killed mid-run stays "started" in RQ until its lease (the
    execution's heartbeat) runs out; then RQ retries it, or fails it when it has no retry
    left, and it may be queued again. A job that ended (finished, failed) gives way to the
    new one.
    """

    def __init__(self, redis_url: str, retry_scale: float = 1.0) -> None:
        self.connection = Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=2)
        self.retry = Retry(max=len(RETRY_INTERVALS),
                           interval=[round(i * retry_scale) for i in RETRY_INTERVALS])

    def queue(self, name: str) -> Queue:
        return Queue(name, connection=self.connection)

    def enqueue(self, queue_name: str, func: Callable[..., Any] | str, *args: Any,
                job_id: str, delay: float = 0, timeout: int | None = None) -> bool:
        try:
            self._enqueue_once(self.queue(queue_name), func, args, job_id, delay, timeout)
        except RedisError as error:
            log.warning("Could not queue %s: %s; the sweeper will queue it again", job_id, error)
            return False
        return True

    def forget(self, queue_name: str, job_ids: list[str]) -> None:
        if not job_ids:
            return
        queue = self.queue(queue_name)
        try:
            with self.connection.pipeline(transaction=False) as pipe:
                for job_id in job_ids:
                    queue.remove(job_id, pipeline=pipe)
                removed = pipe.execute()
            # Only a job taken out of the queue's list here is sure to be run by nobody.
            gone = [RQJob.key_for(job_id) for job_id, count in zip(job_ids, removed, strict=True)
                    if count]
            if gone:
                self.connection.delete(*gone)
        except RedisError as error:
            log.warning("Could not drop %d needless jobs (%s): they will find nothing to do",
                        len(job_ids), error)

    def _enqueue_once(self, queue: Queue, func: Callable[..., Any] | str,
                      args: tuple[Any, ...], job_id: str, delay: float,
                      timeout: int | None) -> None:
        # RQ's `unique=True` refuses any id whose job is still stored, finished and failed
        # ones included (kept for days): the status decides here, under WATCH, as RQ does
        # with dependencies, so that two clients queueing at once queue one job.
        key = RQJob.key_for(job_id)
        cleaned = False
        while True:
            with self.connection.pipeline() as pipe:
                try:
                    pipe.watch(key)
                    status = pipe.hget(key, "status")
                    status = status.decode() if status else None
                    if status == JobStatus.STARTED and not cleaned:
                        # Abandoned past its lease? Then RQ retries it or fails it now.
                        queue.started_job_registry.cleanup()
                        cleaned = True
                        continue
                    if status in WILL_RUN:
                        return
                    ended = RQJob.fetch(job_id, connection=self.connection) if status else None
                    pipe.multi()
                    if ended is not None:
                        ended.delete(pipeline=pipe)
                    # A job's name as a plain str (a `Job` is a StrEnum): RQ stores what it is
                    # given.
                    func = str(func) if isinstance(func, str) else func
                    options = {"job_id": job_id, "description": job_id, "retry": self.retry,
                               "failure_ttl": FAILURE_TTL, "timeout": timeout}
                    if delay > 0:  # RQ's scheduler, which `maillage worker` runs, queues it
                        queue.schedule_job(
                            queue.create_job(func, args, status=JobStatus.SCHEDULED, **options),
                            datetime.now(UTC) + timedelta(seconds=delay), pipeline=pipe)
                    else:
                        queue.enqueue_call(func, args, pipeline=pipe, **options)
                    pipe.execute()
                    return
                except WatchError:
                    continue  # another client queued it, or a worker took it: look again


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
                job_id: str, delay: float = 0, timeout: int | None = None) -> bool:
        # No time-out: the thread runs one job at a time, and cannot stop one.
        if isinstance(func, str):
            func = import_string(func)
        with self.condition:
            self._start()
            if job_id not in self.pending:
                self.pending.add(job_id)
                self.outstanding += 1
                if delay > 0:
                    self._later(delay, _Job(func, args, job_id))
                else:
                    self.ready.append(_Job(func, args, job_id))
                self.condition.notify_all()
        return True

    def forget(self, queue_name: str, job_ids: list[str]) -> None:
        with self.condition:
            dropped = {job.job_id for job in self.ready} & set(job_ids)
            if dropped:
                self.ready = deque(job for job in self.ready if job.job_id not in dropped)
                self.pending -= dropped
                self.outstanding -= len(dropped)
                self.condition.notify_all()

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
    """In the embedded mode, sweep the outboxes of events and mail, the digests left unsent,
    the files' orphan bytes and the old notifications, and escalate unanswered help requests
    from the worker thread, as the scheduler does.

    The worker thread's queue lives in memory, and the process may have been killed with
    work queued: so the first sweeps take up at once every event not processed and every
    mail not sent, whoever was answering for them (the embedded mode has one process).
    Only the serving process does it: a command that merely migrates has no outbox yet.
    """
    queues = app.extensions["maillage.queues"]
    if isinstance(queues, ThreadQueues) and app.config.get("SWEEP_INTERVAL"):
        queues.enqueue("events", Job.SWEEP_OUTBOX, timedelta(0), job_id="sweep-outbox-at-start")
        queues.enqueue("mail", Job.SWEEP_MAIL, True, job_id="sweep-mail-at-start")
        queues.every(app.config["SWEEP_INTERVAL"], Job.SWEEP_OUTBOX, "sweep-outbox")
        queues.every(app.config["SWEEP_INTERVAL"], Job.SWEEP_MAIL, "sweep-mail")
        queues.every(app.config["SWEEP_INTERVAL"], Job.SWEEP_DIGESTS, "sweep-digests")
        queues.every(app.config["SWEEP_INTERVAL"], Job.SWEEP_WEBHOOKS, "sweep-webhooks")
        queues.every(3600, Job.SWEEP_FILES, "sweep-files")
        queues.every(3600, Job.PRUNE_NOTIFICATIONS, "prune-notifications")
    if isinstance(queues, ThreadQueues) and app.config.get("HELP_ESCALATION_INTERVAL"):
        queues.every(app.config["HELP_ESCALATION_INTERVAL"], Job.FOLLOW_THROUGH_HELP,
                     "follow-through-help")


def enqueue_after_commit(queue_name: str, func: Callable[..., Any] | str, *args: Any,
                         job_id: str) -> None:
    """Queue a job once the current transaction has committed, and never if it rolls back."""
    def enqueue() -> None:
        current_app.extensions["maillage.queues"].enqueue(queue_name, func, *args,
                                                          job_id=job_id)

    after_commit(enqueue)
