"""The web server of `maillage serve`: gunicorn with its gevent worker, as the Procfile's `web`.

That is Flask-SocketIO's production server: each worker serves pages, long-polling and
WebSocket alike, from greenlets. `maillage serve` replaces its own process with gunicorn's
(`command`) rather than running gunicorn within it: by then the `maillage` command has imported
the whole app, and a worker must import it only after gevent patched the standard library
(psycopg picks how it waits for the database when imported; a lock or a thread-local made
before the patch would block or be shared by every greenlet). gunicorn's master reads the
settings only (`maillage.health.gunicorn`); each worker creates its app with `worker_app`.
"""

from __future__ import annotations

import sys

from flask import Flask

from maillage import queues
from maillage.app import create_app
from maillage.health import logs


def command(host: str, port: int, workers: int) -> list[str]:
    """gunicorn's command line, for `os.execv`, serving on `host`:`port` with `workers`."""
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return [sys.executable, "-m", "gunicorn", "-c", "python:maillage.health.gunicorn",
            "--worker-class", "gevent", "--workers", str(workers), "--bind", address,
            # gunicorn 27's control socket is one per user: without it, several servers run.
            "--no-control-socket", f"{__name__}:worker_app()"]


def worker_app() -> Flask:
    """The app of one gunicorn worker, created once gevent has patched it.

    Its settings come from the environment, as those of any `maillage` command; without
    REDIS_URL its jobs run in a thread of this process (a greenlet here), which sweeps the
    outboxes as the scheduler does.
    """
    app = create_app()
    logs.configure(app.config["LOG_FORMAT"])
    queues.start_sweeping(app)
    return app
