"""Gunicorn's settings for Maillage's web processes: `gunicorn -c python:maillage.health.gunicorn`
(the Procfile's `web`); the command line gives the rest.

Gunicorn's own lines (booting, a worker timed out) follow LOG_FORMAT like the app's. Its master
reads this module before any worker patches for gevent: it loads the settings and the log
format, never the app.
"""

from maillage.health.logformat import gunicorn_config as _gunicorn_config
from maillage.settings import log_format as _log_format

logconfig_dict = _gunicorn_config(_log_format())

# Each open page holds a socket, each socket a connection: past gunicorn's default of 1,000 a
# gevent worker stops accepting, and every request waits in the listen queue (2,000 sockets
# over two processes hung the live bench, bench/README.md). A connection is a greenlet and
# its buffers, some tens of KB.
worker_connections = 10_000
