"""The socket handlers: connect (who listens), disconnect, subscribe and unsubscribe.

A connection says who it is once, at connect: by the session cookie, or by a personal token in
the handshake (`auth={"token": "..."}`), for clients that have no cookie; it then listens to its
user's room. Anyone, signed in or not, may ask to listen to public rooms (see `maillage.rooms`).

Each handler does its database work inside `database.transaction()`, like a job. Under a real
server Flask-SocketIO runs a handler in an app context of its own, whose teardown would remove
the session; but it reuses the caller's app context when there is one (its test client runs
handlers synchronously in the test's), and then no teardown comes. The transaction ends the
session in both cases.
"""

from __future__ import annotations

from typing import Any

from flask import session as socket_session
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room, leave_room
from flask_socketio import rooms as joined_rooms

from maillage.accounts import operations, queries
from maillage.accounts.auth import SIGN_IN
from maillage.database import transaction
from maillage.realtime.emit import socketio
from maillage.realtime.presence import presence
from maillage.rooms import is_public, open_rooms, sign_in_room, token_room, user_room

MAX_ROOMS = 50
LISTENER = "maillage.listener"  # key of the user id in the socket's own session (None: nobody)


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
