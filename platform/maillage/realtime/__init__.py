"""Socket.IO: the live channel from Maillage to the browsers of the people it concerns.

`init_app` attaches the server (`emit.socketio`) with its manager (`managers`: the rooms of
one process, or of every process through Redis) and the register of who is connected
(`presence`); `handlers` answers the sockets; the rest of the app sends through `emit`.
"""

from __future__ import annotations

from flask import Flask
from gevent import monkey

from maillage.realtime.emit import close_room, emit_activity, emit_notifications, socketio
from maillage.realtime.handlers import LISTENER  # the import registers the handlers
from maillage.realtime.managers import BatchingManager, BatchingRedisManager
from maillage.realtime.presence import LocalPresence, RedisPresence, presence

__all__ = ["LISTENER", "async_mode", "close_room", "emit_activity", "emit_notifications",
           "init_app", "presence", "socketio"]


def init_app(app: Flask) -> None:
    """Attach Socket.IO, sharing rooms through Redis when several processes serve them."""
    redis_url = app.config["REDIS_URL"]
    manager = (BatchingRedisManager(redis_url, channel=app.config.get("SOCKETIO_CHANNEL",
                                                                      "flask-socketio"))
               if redis_url else BatchingManager())
    socketio.init_app(app, async_mode=async_mode(app), client_manager=manager)
    app.extensions["maillage.presence"] = (
        RedisPresence(app.config["REDIS_URL"]) if app.config["REDIS_URL"] else LocalPresence())


def async_mode(app: Flask) -> str:
    """Return "gevent" in a monkey-patched process (gunicorn's gevent worker, `maillage
    serve`), else "threading".

    Flask-SocketIO would pick gevent whenever it is installed; unpatched, its greenlets do not
    mix with real threads: those of the development server (`maillage serve --reload`) and of
    a test's server, the embedded job worker's, blocking database calls. SOCKETIO_ASYNC_MODE
    overrides. Under gunicorn the app must be created after the worker patched, so not with
    --preload.
    """
    if app.config.get("SOCKETIO_ASYNC_MODE"):
        return str(app.config["SOCKETIO_ASYNC_MODE"])
    return "gevent" if monkey.is_module_patched("socket") else "threading"
