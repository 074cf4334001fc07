"""Listening to the live channel in-process, as a browser's socket would."""

from __future__ import annotations

from typing import Any

from flask import Flask

from maillage.realtime import socketio


class Listener:
    """A Socket.IO test client whose every call runs in an app context of its own.

    Flask-SocketIO's test client runs the handlers synchronously, inside the app context the
    test holds; a real server gives each its own. Without this, connections would share the
    test's `g`, and with it the signed-in user of the previous connection.
    """

    def __init__(self, app: Flask, **kwargs: Any) -> None:
        self.app = app
        with app.app_context():
            self.client = socketio.test_client(app, **kwargs)

    def is_connected(self) -> bool:
        return self.client.is_connected()

    def ask(self, event: str, *args: Any) -> Any:
        """Emit `event` and return the server's acknowledgement."""
        with self.app.app_context():
            return self.client.emit(event, *args, callback=True)

    def received(self) -> list[tuple[str, Any]]:
        """Return the messages that arrived since the last call, as (event, payload)."""
        return [(message["name"], *message["args"]) for message in self.client.get_received()]
