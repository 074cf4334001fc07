"""Live delivery end to end: two web processes, a worker, Redis, and Socket.IO clients.

Everything runs as it does in production: gunicorn with gevent for the web, `maillage worker`
for the jobs, the machine's Redis as the queue and the Socket.IO message queue, and
python-socketio clients connected to each web process.
"""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Iterator

import pytest
import requests
import socketio
from redis import Redis
from redis.exceptions import RedisError

from maillage.accounts.models import Role
from tests.support.services import SHARED_REDIS, service_missing
from tests.support.stack import running_stack

LANNION = "22113"


@pytest.fixture(scope="module")
def stack(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """Two web processes and a worker on the test database and Redis; yields the web URLs."""
    redis = Redis.from_url(SHARED_REDIS, socket_connect_timeout=1)
    try:
        redis.flushdb()
    except RedisError as error:
        service_missing(f"Redis does not answer at {SHARED_REDIS}: {error}")
    with running_stack(database_url, SHARED_REDIS, tmp_path_factory.mktemp("live"), web=2,
                       secret_key="live-test", channel=f"maillage-test-{os.getpid()}") as running:
        yield running.urls
    redis.flushdb()


class Listener:
    """A python-socketio client that records what it receives."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.messages: queue.Queue[tuple[str, dict]] = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        for name in ("notification", "activity"):
            self.client.on(name, lambda data, name=name: self.messages.put((name, data)))
        self.client.connect(url, auth={"token": token} if token else None,
                            transports=["websocket"], wait_timeout=10)

    def subscribe(self, *names: str) -> list[str]:
        return self.client.call("subscribe", {"rooms": list(names)}, timeout=10)["rooms"]

    def next(self, timeout: float = 10) -> tuple[str, dict]:
        return self.messages.get(timeout=timeout)

    def nothing_more(self, wait: float = 1.0) -> bool:
        time.sleep(wait)
        return self.messages.empty()

    def close(self) -> None:
        self.client.disconnect()


def test_an_initiative_reaches_followers_on_both_web_processes(stack, create_user,
                                                               token_for) -> None:
    first, second = stack
    author = create_user(town=LANNION, role=Role.AGENT, verified=True)
    followers = [create_user(), create_user()]
    for follower in followers:
        response = requests.put(f"{first}/api/v1/follows/theme/cybersecurite", timeout=10,
                                headers={"Authorization": f"Bearer {token_for(follower)}"})
        assert response.status_code == 200
    listeners = [Listener(url, token_for(follower))
                 for url, follower in zip(stack, followers, strict=True)]
    public = Listener(second)
    assert public.subscribe("theme:cybersecurite") == ["theme:cybersecurite"]
    try:
        response = requests.post(
            f"{first}/api/v1/initiatives", timeout=10,
            headers={"Authorization": f"Bearer {token_for(author)}"},
            json={"town": LANNION, "title": "Double authentification des élus",
                  "summary": "Pour tous les comptes de messagerie.", "body": "Comment.",
                  "themes": ["cybersecurite"]})
        assert response.status_code == 201
        ids = []
        for listener in listeners:
            name, data = listener.next()
            assert name == "notification"
            ids.append(data["id"])
        assert len(set(ids)) == 2
        name, data = public.next()
        assert (name, data["initiative_id"]) == ("activity", response.json()["id"])
        for listener, follower in zip(listeners, followers, strict=True):
            assert listener.nothing_more(0.3)
            listed = requests.get(f"{second}/api/v1/notifications", timeout=10,
                                  headers={"Authorization": f"Bearer {token_for(follower)}"})
            assert [item["id"] for item in listed.json()["items"]] == \
                [ids[followers.index(follower)]]
    finally:
        for listener in [*listeners, public]:
            listener.close()


def test_who_may_connect_and_listen_where(stack, create_user, token_for) -> None:
    first, _second = stack
    with pytest.raises(socketio.exceptions.ConnectionError):
        Listener(first, "mlg_not-a-token")
    user = create_user()
    other = create_user()
    signed_in = Listener(first, token_for(user))
    signed_out = Listener(first)
    try:
        asked = ["theme:cybersecurite", f"town:{LANNION}", "help", "theme:nope", "town:00000",
                 "initiative:999999", f"user:{other.id}", f"user:{user.id}", "garbage"]
        expected = ["theme:cybersecurite", f"town:{LANNION}", "help"]
        assert sorted(signed_out.subscribe(*asked)) == sorted(expected)
        assert sorted(signed_in.subscribe(*asked)) == sorted(expected)
    finally:
        signed_in.close()
        signed_out.close()


def test_revoking_a_token_closes_its_sockets_on_every_web_process(stack, create_user,
                                                                  token_for) -> None:
    first, second = stack
    user = create_user()
    doomed, spared = token_for(user), token_for(user)
    on_second, on_first = Listener(second, doomed), Listener(first, spared)
    try:
        token_id = requests.get(f"{first}/api/v1/me/tokens", timeout=10,
                                headers={"Authorization": f"Bearer {spared}"}).json()[1]["id"]
        response = requests.delete(f"{first}/api/v1/me/tokens/{token_id}", timeout=10,
                                   headers={"Authorization": f"Bearer {spared}"})
        assert response.status_code == 204
        deadline = time.monotonic() + 10
        while on_second.client.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not on_second.client.connected
        assert on_first.client.connected
    finally:
        on_first.close()
        on_second.close()


def test_a_backlog_processed_in_batches_reaches_each_follower_live_once(
        database_url, own_redis, create_user, token_for, tmp_path) -> None:
    with running_stack(database_url, own_redis.url, tmp_path, web=1, workers=0) as waiting:
        url = waiting.urls[0]
        author = create_user(town=LANNION, role=Role.AGENT, verified=True)
        followers = [create_user(), create_user()]
        for follower in followers:
            response = requests.put(f"{url}/api/v1/follows/theme/inclusion-numerique",
                                    timeout=10,
                                    headers={"Authorization": f"Bearer {token_for(follower)}"})
            assert response.status_code == 200
        listeners = [Listener(url, token_for(follower)) for follower in followers]
        try:
            for n in range(12):  # no worker yet: a backlog
                response = requests.post(
                    f"{url}/api/v1/initiatives", timeout=10,
                    headers={"Authorization": f"Bearer {token_for(author)}"},
                    json={"town": LANNION, "title": f"Atelier {n}", "summary": "Pour tous.",
                          "body": "Le samedi.", "themes": ["inclusion-numerique"]})
                assert response.status_code == 201
            with running_stack(database_url, own_redis.url, tmp_path / "worker", web=0,
                               workers=1):
                for listener in listeners:
                    # The worker starts (imports the app) under this clock: a loaded
                    # machine takes its time.
                    received = [listener.next(timeout=60) for _ in range(12)]
                    assert {name for name, _data in received} == {"notification"}
                    assert len({data["id"] for _name, data in received}) == 12
                for listener in listeners:
                    assert listener.nothing_more(0.5)
            jobs = Redis.from_url(own_redis.url).zcard("rq:finished:events")
            assert 1 <= jobs < 12  # taken along in batches, the others' jobs dropped
        finally:
            for listener in listeners:
                listener.close()
