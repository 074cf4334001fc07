"""Who has a socket open: the embedded process's own rooms, or a count per user in Redis."""

from __future__ import annotations

from flask import current_app
from redis import Redis

from maillage.realtime.emit import socketio


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

    def sockets(self) -> int:
        """How many sockets signed-in people hold open."""
        rooms = socketio.server.manager.rooms.get("/", {}) if socketio.server else {}
        return sum(len(sockets) for name, sockets in rooms.items()
                   if name and name.startswith("user:"))


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

    def sockets(self) -> int:
        """How many sockets signed-in people hold open, on every web process."""
        return sum(int(count) for count in self.redis.hvals(self.KEY))


def presence() -> LocalPresence | RedisPresence:
    """Return the register of who has a socket open, for the current app."""
    return current_app.extensions["maillage.presence"]
