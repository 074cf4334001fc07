"""The Socket.IO managers: one process's rooms, or every process's through Redis, with two
methods of Maillage's own, `emit_each` (many messages at once) and `disconnect_room`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import socketio as python_socketio


class BatchingManager(python_socketio.Manager):
    """Socket.IO's manager of one process's rooms, with `emit_each` and `disconnect_room`."""

    def emit_each(self, event: str, messages: list[tuple[str, Any]]) -> None:
        """Send each `(room, data)` pair as an `event` message to that room's sockets."""
        for room, data in messages:
            self.emit(event, data, namespace="/", room=room)

    def disconnect_room(self, room: str) -> None:
        """Close every socket in `room`."""
        _disconnect_here(self, room)


def _disconnect_here(manager: python_socketio.Manager, room: str) -> None:
    sids = [sid for sid, _eio_sid in manager.get_participants("/", room)]
    for sid in sids:
        manager.server.disconnect(sid, namespace="/", ignore_queue=True)


class BatchingRedisManager(python_socketio.RedisManager):
    """Socket.IO's Redis manager, with `emit_each`: many messages in one publication.

    A fan-out to 50 connected people is then one Redis round trip for the worker, and one
    message for each web process to decode, which sends its own sockets their part, rather
    than 50 publications that every web process decodes, mostly for others' sockets.
    `disconnect_room` closes a room's sockets wherever they are.
    """

    METHODS = ("emit_each", "disconnect_room")

    def emit_each(self, event: str, messages: list[tuple[str, Any]]) -> None:
        """Send each `(room, data)` pair as an `event` message, wherever the room's sockets are."""
        message = {"method": "emit_each", "event": event, "messages": messages,
                   "host_id": self.host_id}
        self._handle_here(message)
        self._publish(message)

    def disconnect_room(self, room: str) -> None:
        """Close every socket in `room`, on every web process."""
        message = {"method": "disconnect_room", "room": room, "host_id": self.host_id}
        self._handle_here(message)
        self._publish(message)

    def _handle_here(self, message: dict[str, Any]) -> None:
        if message["method"] == "disconnect_room":
            _disconnect_here(self, message["room"])
            return
        for room, data in message["messages"]:
            self.emit(message["event"], data, namespace="/", room=room, ignore_queue=True)

    def _listen(self) -> Iterator[Any]:
        """Take this class's messages out of the stream; the base class handles the others."""
        for raw in super()._listen():
            try:
                message = self.json.loads(raw)
            except ValueError:
                yield raw
                continue
            if not (isinstance(message, dict) and message.get("method") in self.METHODS):
                yield message
            elif message.get("host_id") != self.host_id:
                try:
                    self._handle_here(message)
                except Exception:
                    self._get_logger().exception("Could not handle a %s", message["method"])
