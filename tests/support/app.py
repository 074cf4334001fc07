"""The app under test: its configuration, its test client, the end of its jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from maillage.queues import ThreadQueues


def app_config(url: str, instance: Path) -> dict[str, Any]:
    """The configuration of a test app on the database `url`, its files under `instance`.

    RATELIMIT_ENABLED is said: the one `maillage.limits.limiter` of the process otherwise keeps
    what the last app set it to (Flask-Limiter's init_app defaults it to its current value), so
    an app made with RATELIMIT_ENABLED=False (tests/api/test_schema.py) would disable the rate
    limits of every app made after it.
    """
    return {"DATABASE_URL": url, "INSTANCE_PATH": instance, "MAIL_DIR": instance / "mail",
            "SECRET_KEY": "test-secret", "TESTING": True, "REDIS_URL": None,
            "SWEEP_INTERVAL": None, "JOB_RETRY_SCALE": 0.01, "RATELIMIT_ENABLED": True}


class ServerLikeClient(FlaskClient):
    """A test client whose every request has its own app context, as under a real server.

    The tests hold an app context to read the database; without this, requests would share
    it, and with it `g` and the signed-in user of the previous request.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


def finish_jobs(app: Flask) -> None:
    """Let the jobs of the embedded worker thread end before what they use goes away."""
    queues = app.extensions["maillage.queues"]
    if isinstance(queues, ThreadQueues):
        assert queues.join(timeout=60), "the embedded worker did not finish its jobs"
