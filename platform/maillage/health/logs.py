"""Where the lines of Maillage's processes go, and the ids they carry.

A line written while a request is served has its `request_id` (the proxy's X-Request-ID, or
one made here, sent back in the response); a line written by an event's job, or passing its
id as `extra={"event_id": ...}`, its `event_id`. Their format is `logformat`'s.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from flask import Flask, Response, g, has_request_context, request

from maillage.health.logformat import formatter
from maillage.jobs import Job

if TYPE_CHECKING:
    from rq.job import Job as QueuedJob

REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")  # what may be taken from the proxy
_EVENT: ContextVar[int | None] = ContextVar("maillage_event_id", default=None)


class Ids(logging.Filter):
    """Adds the id of the request being served, or of the event being processed, to a line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context() and "request_id" in g and not hasattr(record, "request_id"):
            record.request_id = g.request_id
        event_id = _EVENT.get()
        if event_id is not None and not hasattr(record, "event_id"):
            record.event_id = event_id
        return True


@contextmanager
def about(job: QueuedJob) -> Iterator[None]:
    """Have the lines written while `job` runs, RQ's about its end included, carry the id of
    the event it processes, if it processes one."""
    processes = job.func_name == Job.PROCESS_EVENT and bool(job.args)
    token = _EVENT.set(job.args[0] if processes else None)
    try:
        yield
    finally:
        _EVENT.reset(token)


def configure(log_format: str, level: int = logging.INFO) -> None:
    """Send every logger's lines to standard error in `log_format`, from `level` up.

    Only the processes Maillage runs call it (gunicorn's workers, `maillage serve`,
    `maillage worker`): a command run by a test must leave pytest's handlers be.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    handler.addFilter(Ids())
    logging.basicConfig(level=level, handlers=[handler], force=True)


def init_app(app: Flask) -> None:
    """Give each request its id, for its log lines and the response's X-Request-ID."""

    @app.before_request
    def request_id() -> None:
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex

    @app.after_request
    def tell_request_id(response: Response) -> Response:
        if "request_id" in g:
            response.headers["X-Request-ID"] = g.request_id
        return response
