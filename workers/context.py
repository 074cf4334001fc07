"""The app jobs run in: each job gets an app context of the worker's app."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, has_app_context
from rq import SimpleWorker
from rq.job import Job
from rq.queue import Queue

from maillage.app import create_app
from maillage.health import logs

_app: Flask | None = None


def job_app() -> Flask:
    """Return the app of the running job; under a plain `rq worker`, create one, once."""
    global _app
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    if _app is None:
        _app = create_app()
    return _app


class AppWorker(SimpleWorker):
    """RQ's SimpleWorker running each job in an app context of one app, made once, its log
    lines carrying the id of the event it processes (`logs.about`).

    SimpleWorker runs jobs in its own process instead of forking one per job, so a fan-out
    costs its queries, not a new interpreter and new database connections.
    """

    def __init__(self, *args: Any, app: Flask, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.app = app

    def perform_job(self, job: Job, queue: Queue) -> bool:
        with self.app.app_context(), logs.about(job):
            return super().perform_job(job, queue)
