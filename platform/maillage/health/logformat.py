"""The format of log lines: one JSON object a line (LOG_FORMAT=json), or plain text.

python-json-logger formats the standard library's records, so every logger of Maillage and of
its libraries (RQ, gunicorn, Flask-SocketIO) writes JSON without a change to its calls; an
`extra` of a call becomes a field. Each line has `time`, `level`, `logger` and `message`.
This module imports nothing of Flask or Redis: gunicorn's master reads it (`gunicorn.py`)
before its workers patch for gevent.
"""

from __future__ import annotations

import logging
from typing import Any

from pythonjsonlogger.json import JsonFormatter

TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def formatter(log_format: str) -> logging.Formatter:
    """The formatter of LOG_FORMAT."""
    if log_format == "json":
        return JsonFormatter("{message}{levelname}{name}", style="{", timestamp="time",
                             rename_fields={"levelname": "level", "name": "logger"})
    return logging.Formatter(TEXT)


def gunicorn_config(log_format: str) -> dict[str, Any]:
    """Gunicorn's logging (`logconfig_dict`): its master's and workers' lines in `log_format`,
    the level still that of --log-level. Its access log stays off, as without this: the
    request histogram of /metrics and the proxy's log tell the requests."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"maillage": {"()": formatter, "log_format": log_format}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "maillage",
                                "stream": "ext://sys.stderr"}},
        "root": {"level": "INFO", "handlers": ["stderr"]},
        "loggers": {"gunicorn.error": {"handlers": ["stderr"], "propagate": False},
                    "gunicorn.access": {"handlers": [], "propagate": False,
                                        "level": "WARNING"}},
    }
