"""Socket.IO: the live channel from Maillage to the browsers of the people it concerns."""

from __future__ import annotations

from flask import Flask
from flask_socketio import SocketIO

socketio = SocketIO()


def init_app(app: Flask) -> None:
    """Attach Socket.IO, sharing rooms through Redis when several processes serve them."""
    socketio.init_app(app, message_queue=app.config["REDIS_URL"])
