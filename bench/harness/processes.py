"""The processes of the live benchmark: a Redis server of its own, and the stack
(tests/support/stack.py) with the benchmark's settings."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

from tests.support.net import free_port
from tests.support.stack import Stack, running_stack


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


def bench_stack(database_url: str, redis_url: str, workers: int,
                folder: Path) -> AbstractContextManager[Stack]:
    """Two gunicorn gevent web processes and `workers` workers, logging to `folder`."""
    # One author posts 20 initiatives a second, far beyond what the rate limits allow a
    # person: they are raised here, since this measures the pipeline, not the limiter.
    return running_stack(database_url, redis_url, folder, web=2, workers=workers,
                         secret_key="bench-live", logs=True,
                         env={"RATE_LIMIT_WRITE": "100000 per minute",
                              "RATE_LIMIT_TOKEN": "100000 per minute"})
