"""The Socket.IO server, and what the rest of Maillage sends through it.

Messages carry little: a notification's id, an activity's summary; what a browser shows it
reads from the API, which checks who asks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_socketio import SocketIO

from maillage.rooms import is_public, user_room

socketio = SocketIO()


def emit_notifications(notifications: Iterable[tuple[int, int]]) -> None:
    """Tell the open pages of each user id that their notification exists, for each pair
    (user id, notification id).

    Only the id travels: the page asks the API for the rest, and after a reconnect asks for
    what came after the last id it saw. Callable from any process that created the app: with
    REDIS_URL set, one message goes through Redis to the web processes, each of which tells
    the sockets it holds.
    """
    messages = [(user_room(user_id), {"id": notification_id})
                for user_id, notification_id in notifications]
    if messages:
        socketio.server.manager.emit_each("notification", messages)


def emit_activity(rooms: list[str], payload: dict[str, Any]) -> None:
    """Send `payload` as an `activity` message to the listeners of public rooms.

    A socket in several of the rooms gets it once. A misspelt or private room name raises
    ValueError rather than reaching nobody, or somebody, in silence; no room sends nothing
    (Socket.IO would take an empty list as "everyone").
    """
    wrong = [name for name in rooms if not is_public(name)]
    if wrong:
        raise ValueError(f"not public room names: {wrong}")
    if rooms:
        socketio.emit("activity", payload, to=rooms)


def close_room(room: str) -> None:
    """Close the sockets in `room` (a user's, a token's, a browser session's), on every web
    process."""
    socketio.server.manager.disconnect_room(room)
