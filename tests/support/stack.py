"""Maillage as in production, the one launcher that the end-to-end tests and bench/ share.

Gunicorn web processes with gevent (`maillage.wsgi:app`), `maillage worker` processes, on a
database and a Redis the caller gives: the queue of RQ and the message queue of Socket.IO.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.net import free_port, wait_for

BIN = Path(sys.executable).parent


@dataclass
class Stack:
    """The running stack: its web processes' URLs, and the processes themselves."""

    urls: list[str]
    web: list[subprocess.Popen[bytes]]
    workers: list[subprocess.Popen[bytes]]
    instance: Path

    @property
    def url(self) -> str:
        """The first web process's URL (the only one, with `web=1`)."""
        return self.urls[0]

    @property
    def web_pids(self) -> list[int]:
        return [process.pid for process in self.web]

    @property
    def worker_pids(self) -> list[int]:
        return [process.pid for process in self.workers]


@contextmanager
def running_stack(database_url: str, redis_url: str, instance: Path, *, web: int = 1,
                  workers: int = 1, secret_key: str = "stack-test", channel: str | None = None,
                  env: dict[str, str] | None = None, logs: bool = False) -> Iterator[Stack]:
    """Start `web` web processes and `workers` workers; yield when every web process answers;
    stop them all at the end (killed if one has not stopped within 15 s).

    `channel` is the Socket.IO channel on Redis (SOCKETIO_CHANNEL; the app's default when
    None): Redis publish/subscribe ignores database numbers, so processes sharing a server and
    a channel exchange live messages. `env` adds to or overrides the environment (the rate
    limits of a benchmark, LOG_FORMAT...). With `logs`, each process writes its output to a
    file of `instance` (web-<port>.log, worker-<n>.log); otherwise the web processes write to
    this process's standard streams and the workers nowhere. The web processes keep their
    request counters in `instance`/prometheus (PROMETHEUS_MULTIPROC_DIR), emptied first, so
    that /metrics of any of them adds up those of all.
    """
    counters = instance / "prometheus"
    shutil.rmtree(counters, ignore_errors=True)
    counters.mkdir(parents=True)
    environment = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
                   "SECRET_KEY": secret_key, "MAILLAGE_INSTANCE": str(instance),
                   "PROMETHEUS_MULTIPROC_DIR": str(counters)}
    if channel is not None:
        environment["SOCKETIO_CHANNEL"] = channel
    environment.update(env or {})
    ports = [free_port() for _ in range(web)]
    stack = Stack([f"http://127.0.0.1:{port}" for port in ports], [], [], instance)

    def start(command: list[str], log: str | None, quiet: bool) -> subprocess.Popen[bytes]:
        if log is None:
            output: int | None = subprocess.DEVNULL if quiet else None
            return subprocess.Popen(command, env=environment, stdout=output, stderr=output)
        with open(instance / log, "wb") as file:
            return subprocess.Popen(command, env=environment, stdout=file,
                                    stderr=subprocess.STDOUT)

    try:
        for port in ports:
            stack.web.append(start(
                [str(BIN / "gunicorn"), "-c", "python:maillage.health.gunicorn",
                 "--worker-class", "gevent", "--workers", "1",
                 "--bind", f"127.0.0.1:{port}", "--no-control-socket",
                 "--graceful-timeout", "2", "--log-level", "warning", "maillage.wsgi:app"],
                f"web-{port}.log" if logs else None, quiet=False))
        for number in range(workers):
            stack.workers.append(start([str(BIN / "maillage"), "worker"],
                                       f"worker-{number}.log" if logs else None, quiet=True))
        for url in stack.urls:
            wait_for(f"{url}/api/v1/themes")
        yield stack
    finally:
        processes = [*stack.web, *stack.workers]
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
