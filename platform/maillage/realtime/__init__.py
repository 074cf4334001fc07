"""Socket.IO: the live channel from Maillage to the browsers of the people it concerns.

A connection says who it is once, at connect: by the session cookie, or by a personal token in
the handshake (`auth={"token": "..."}`), for clients that have no cookie; it then listens to its
user's room. Anyone, signed in or not, may ask to listen to public rooms (see `maillage.rooms`).
Messages carry little: a notification's id, an activity's summary; what a browser shows it reads
from the API, which checks who asks.

Each handler does its database work inside `database.transaction()`, like a job. Under a real
server Flask-SocketIO runs a handler in an app context of its own, whose teardown would remove
the session; but it reuses the caller's app context when there is one (its test client runs
handlers synchronously in the test's), and then no teardown comes. The transaction ends the
session in both cases.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import socketio as python_socketio
from flask import Flask, current_app
from flask import session as socket_session
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, SocketIO, join_room, leave_room
from flask_socketio import rooms as joined_rooms
from gevent import monkey
from redis import Redis

from maillage.accounts import operations, queries
from maillage.accounts.auth import SIGN_IN
from maillage.database import transaction
from maillage.rooms import is_public, open_rooms, sign_in_room, token_room, user_room

MAX_ROOMS = 50
LISTENER = "maillage.listener"  # key of the user id in the socket's own session (None: nobody)

socketio = SocketIO()


def init_app(app: Flask) -> None:
    """Attach Socket.IO, sharing rooms through Redis when several processes serve them."""
    redis_url = app.config["REDIS_URL"]
    manager = (BatchingRedisManager(redis_url, channel=app.config.get("SOCKETIO_CHANNEL",
                                                                      "flask-socketio"))
               if redis_url else BatchingManager())
    socketio.init_app(app, async_mode=async_mode(app), client_manager=manager)
    app.extensions["maillage.presence"] = (
        RedisPresence(app.config["REDIS_URL"]) if app.config["REDIS_URL"] else LocalPresence())


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


def async_mode(app: Flask) -> str:
    """Return "gevent" in a monkey-patched process (gunicorn's gevent worker), else "threading".

    Flask-SocketIO would pick gevent whenever it is installed; unpatched, its greenlets do not
    mix with the real threads of `maillage serve` (requests, the embedded job worker, blocking
    database calls). SOCKETIO_ASYNC_MODE overrides. Under gunicorn the app must be created
    after the worker patched, so not with --preload.
    """
    if app.config.get("SOCKETIO_ASYNC_MODE"):
        return str(app.config["SOCKETIO_ASYNC_MODE"])
    return "gevent" if monkey.is_module_patched("socket") else "threading"


class LocalPresence:
    """Who has a socket open, in the one process of the embedded mode: its own rooms say."""

    def arrived(self, user_id: int) -> None:
        """The process's rooms already record it."""

    def left(self, user_id: int) -> None:
        """The process's rooms already record it."""

    def online(self) -> set[int]:
        rooms = socketio.server.manager.rooms.get("/", {}) if socketio.server else {}
        return {int(name.removeprefix("user:")) for name, sockets in rooms.items()
                if sockets and name and name.startswith("user:")}


class RedisPresence:
    """Who has a socket open on any web process: a count of sockets per user, in Redis.

    A web process that dies without its disconnects leaves counts too high, which costs a
    message to nobody, never a missed one.
    """

    KEY = "maillage:presence"

    def __init__(self, redis_url: str) -> None:
        self.redis = Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=2)

    def arrived(self, user_id: int) -> None:
        self.redis.hincrby(self.KEY, str(user_id), 1)

    def left(self, user_id: int) -> None:
        if self.redis.hincrby(self.KEY, str(user_id), -1) <= 0:
            self.redis.hdel(self.KEY, str(user_id))

    def online(self) -> set[int]:
        return {int(key) for key in self.redis.hkeys(self.KEY)}


def presence() -> LocalPresence | RedisPresence:
    """Return the register of who has a socket open, for the current app."""
    return current_app.extensions["maillage.presence"]


def emit_notifications(notification_ids: Mapping[int, int]) -> None:
    """Tell the open pages of each user id that their notification (the id mapped) exists.

    Only the id travels: the page asks the API for the rest, and after a reconnect asks for
    what came after the last id it saw. Callable from any process that created the app: with
    REDIS_URL set, one message goes through Redis to the web processes, each of which tells
    the sockets it holds.
    """
    if notification_ids:
        socketio.server.manager.emit_each("notification", [
            (user_room(user_id), {"id": notification_id})
            for user_id, notification_id in notification_ids.items()])


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


@socketio.on("connect")
def _connect(auth: object = None) -> None:
    with transaction():
        user_id, token_id = _listener(auth)
    socket_session[LISTENER] = user_id
    if token_id is not None:
        join_room(token_room(token_id))
    elif user_id is not None and socket_session.get(SIGN_IN):
        join_room(sign_in_room(socket_session[SIGN_IN]))
    if user_id is not None:
        join_room(user_room(user_id))
        presence().arrived(user_id)


@socketio.on("disconnect")
def _disconnect(*_reason: object) -> None:
    user_id = socket_session.get(LISTENER)
    if user_id is not None:
        presence().left(user_id)


def _listener(auth: object) -> tuple[int | None, int | None]:
    """Return who connects and with which token: the token's owner, else the cookie's user.

    A refusal is Socket.IO's ConnectionRefusedError (not the builtin one, whose message
    python-socketio replaces by a generic one): the client's `connect_error` shows its message.
    """
    if auth is not None and not isinstance(auth, dict):
        raise ConnectionRefusedError('The auth payload must be {"token": "<personal token>"}.')
    if auth and "token" in auth:
        secret = auth["token"]
        token = queries.token_by_secret(secret) if isinstance(secret, str) and secret else None
        if token is None:
            raise ConnectionRefusedError("This token is unknown or revoked.")
        operations.touch_token(token)
        return token.user_id, token.id
    return (int(current_user.id) if current_user.is_authenticated else None), None


@socketio.on("subscribe")
def _subscribe(payload: object = None, *_extra: object) -> dict[str, Any]:
    names, error = _requested(payload)
    if error:
        return {"rooms": [], "error": error}
    with transaction():
        allowed = open_rooms(names)
    for room in allowed:
        join_room(room)
    return {"rooms": allowed}


@socketio.on("unsubscribe")
def _unsubscribe(payload: object = None, *_extra: object) -> dict[str, Any]:
    names, error = _requested(payload)
    if error:
        return {"rooms": [], "error": error}
    current = set(joined_rooms())
    left = [name for name in names if name in current and is_public(name)]
    for room in left:
        leave_room(room)
    return {"rooms": left}


def _requested(payload: object) -> tuple[list[str], str | None]:
    """Return the room names asked for, without repeats, or an error saying what is wrong."""
    if not isinstance(payload, dict):
        return [], 'Send an object: {"rooms": ["theme:<slug>", "town:<insee>", ...]}.'
    names = payload.get("rooms")
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        return [], "'rooms' must be a list of room names."
    if len(names) > MAX_ROOMS:
        return [], f"Ask for at most {MAX_ROOMS} rooms at a time."
    return list(dict.fromkeys(names)), None
