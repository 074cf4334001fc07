"""The senders: the author posting through the API, and the bare emitter of the baseline."""

from __future__ import annotations

import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests

from bench.harness.people import LANNION

BARE_IDS = 10**12  # ids of the bare emitter's messages, far above the database's


@dataclass
class Post:
    number: int
    theme: str
    sent: float
    returned: float = 0.0
    initiative_id: int | None = None
    status: int = 0
    error: str = ""


class Poster:
    """The author posting initiatives, one theme each in turn, round-robin over the web."""

    def __init__(self, urls: list[str], token: str, themes: list[str]) -> None:
        self.urls, self.token, self.themes = urls, token, themes
        self.local = threading.local()

    def _http(self) -> requests.Session:
        """This thread's HTTP session, one connection a POST.

        A reused connection fails now and then under load: gunicorn's gevent worker closes a
        connection after 2 s without a request, and when its event loop is stalled that long,
        it closes one whose next request is already waiting, which resets it.
        """
        if not hasattr(self.local, "http"):
            self.local.http = requests.Session()
            self.local.http.headers.update({"Authorization": f"Bearer {self.token}",
                                            "Connection": "close"})
        return self.local.http

    def post(self, number: int) -> Post:
        theme = self.themes[number % len(self.themes)]
        post = Post(number, theme, time.time())
        try:
            response = self._http().post(
                f"{self.urls[number % len(self.urls)]}/api/v1/initiatives", timeout=30,
                json={"town": LANNION, "title": f"Initiative {number}", "themes": [theme],
                      "summary": "Un banc d'essai de la livraison en direct.",
                      "body": "Mesurée de la publication à l'écran."})
            post.status = response.status_code
            if response.status_code == 201:
                post.initiative_id = response.json()["id"]
        except requests.RequestException as error:
            post.status, post.error = -1, repr(error)
        post.returned = time.time()
        return post

    def at_rate(self, rate: float, duration: float, concurrency: int = 32) -> list[Post]:
        """Post `rate` a second for `duration` s, on schedule even when an answer is slow."""
        count = round(rate * duration)
        start = time.monotonic() + 0.05
        with ThreadPoolExecutor(concurrency) as pool:
            futures = []
            for number in range(count):
                time.sleep(max(0.0, start + number / rate - time.monotonic()))
                futures.append(pool.submit(self.post, number))
            return [future.result() for future in futures]

    def flat_out(self, duration: float, posters: int) -> list[Post]:
        """Post for `duration` s from `posters` threads, each as soon as its last answered."""
        numbers = itertools.count()
        deadline = time.monotonic() + duration

        def keep_posting() -> list[Post]:
            done = []
            while time.monotonic() < deadline:
                done.append(self.post(next(numbers)))
            return done

        with ThreadPoolExecutor(posters) as pool:
            batches = list(pool.map(lambda _n: keep_posting(), range(posters)))
        return sorted((post for batch in batches for post in batch), key=lambda p: p.number)


class BareEmitter:
    """The baseline: Flask-SocketIO's external emitter, no app, no database, same Redis."""

    def __init__(self, redis_url: str) -> None:
        from flask_socketio import SocketIO

        self.socketio = SocketIO(message_queue=redis_url)
        self.ids = itertools.count(BARE_IDS)

    def emit(self, user_id: int) -> tuple[int, float]:
        """Send one notification to `user_id`'s room; return its id and when emit returned."""
        notification_id = next(self.ids)
        self.socketio.emit("notification", {"id": notification_id}, to=f"user:{user_id}")
        return notification_id, time.time()

    def at_rate(self, batches: list[list[int]], rate: float) -> dict[int, tuple[int, float]]:
        """Emit batch n (one message per user id) at `n / rate` s.

        Returns message id -> (user id, when its emit returned).
        """
        emitted = {}
        start = time.monotonic() + 0.05
        for number, batch in enumerate(batches):
            time.sleep(max(0.0, start + number / rate - time.monotonic()))
            for user_id in batch:
                notification_id, at = self.emit(user_id)
                emitted[notification_id] = (user_id, at)
        return emitted

    def flat_out(self, user_ids: list[int]) -> tuple[dict[int, tuple[int, float]], float]:
        """Emit to each of `user_ids` in order, as fast as possible.

        Returns message id -> (user id, when its emit returned), and the seconds it took.
        """
        emitted = {}
        started = time.perf_counter()
        for user_id in user_ids:
            notification_id, at = self.emit(user_id)
            emitted[notification_id] = (user_id, at)
        return emitted, time.perf_counter() - started
