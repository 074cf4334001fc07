"""Webhooks: registered by admins only, refused towards private addresses, delivered signed to
a real HTTP server, retried, disabled after failures, never told of confidential requests."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from flask import Flask

from maillage import events
from maillage.accounts.models import Role, User
from maillage.database import session, transaction
from maillage.help.events import HelpRequested
from maillage.networks.models import NetworkMembership
from maillage.networks.operations import create_network
from maillage.webhooks.models import Delivery, Webhook
from tests.support.initiatives import LANNION, VALID

REPLAY_WINDOW = 300


class Receiver:
    """A webhook receiver on loopback: answers each POST with the next of `statuses` (the
    last one again once they run out), and keeps what it got."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses, self.received = list(statuses), []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 \
                    else receiver.statuses[0]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/maillage?x=1"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does: the timestamp within the replay window, then the HMAC of
    "<timestamp>.<body>" compared in constant time."""
    timestamp = headers["X-Maillage-Timestamp"]
    if abs(time.time() - int(timestamp)) > REPLAY_WINDOW:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body,
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"sha256={expected}", headers["X-Maillage-Signature"])


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    app = make_app(WEBHOOK_ALLOW_PRIVATE=True, WEBHOOK_MAX_FAILURES=3)
    with app.app_context():
        with transaction():
            network = create_network("villes-internet", "Villes Internet")
            session.add(NetworkMembership(network_id=network.id, town_insee=LANNION))
        yield app
    session.remove()


@pytest.fixture
def admin(create_user: Callable[..., User], token_for: Callable[..., str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(create_user(admin=True))}"}


@pytest.fixture
def member(create_user: Callable[..., User], token_for: Callable[..., str]) -> dict[str, str]:
    user = create_user(town=LANNION, role=Role.AGENT, verified=True)
    return {"Authorization": f"Bearer {token_for(user)}"}


HOOKS = "/api/v1/networks/villes-internet/webhooks"


def register(client, headers: dict[str, str], url: str, kinds: list[str]) -> dict:
    answer = client.post(HOOKS, json={"url": url, "kinds": kinds}, headers=headers)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def publish(client, member: dict[str, str]) -> None:
    assert client.post("/api/v1/initiatives", json=VALID, headers=member).status_code == 201


def test_a_delivery_is_signed_retried_after_a_500_then_delivered_once(
        client, admin, member, wait) -> None:
    receiver = Receiver([500, 204])
    try:
        hook = register(client, admin, receiver.url, ["initiative.published"])
        assert len(hook["secret"]) == 64
        assert hook["enabled"]
        assert "secret" not in client.get(HOOKS, headers=admin).get_json()[0]
        publish(client, member)
        wait()
    finally:
        receiver.stop()
    assert len(receiver.received) == 2
    for headers, body in receiver.received:
        assert verify(hook["secret"], headers, body)
        assert headers["X-Maillage-Event"] == "initiative.published"
        assert headers["Content-Type"] == "application/json"
    [(first, body), (second, again)] = receiver.received
    assert first["X-Maillage-Delivery"] == second["X-Maillage-Delivery"]
    assert body == again
    assert not verify("another secret", first, body)
    sent = json.loads(body)
    assert sent["event"] == "initiative.published"
    assert sent["network"] == "villes-internet"
    assert sent["data"]["title"] == VALID["title"]
    assert sent["data"]["town_insee"] == LANNION
    [delivery] = client.get(f"{HOOKS}/{hook['id']}/deliveries", headers=admin).get_json()
    assert delivery["attempts"] == 2
    assert delivery["last_status"] == 204
    assert delivery["delivered_at"]
    assert delivery["failed_at"] is None
    assert str(delivery["id"]) == first["X-Maillage-Delivery"]


@pytest.mark.parametrize("url", ["https://127.0.0.1/hook", "https://10.1.2.3/hook",
                                 "https://169.254.169.254/latest/meta-data",
                                 "https://[::1]:8443/hook", "https://[::ffff:10.0.0.1]/",
                                 "https://224.0.0.1/", "https://localhost/hook"])
def test_a_private_address_is_refused_and_nothing_stored(app, client, admin, url: str) -> None:
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False  # as in production
    answer = client.post(HOOKS, json={"url": url, "kinds": ["help.requested"]}, headers=admin)
    assert answer.status_code == 422
    [message] = answer.get_json()["errors"]["json"]["url"]
    assert "loopback, private, link-local" in message
    assert session.scalar(sa.select(sa.func.count()).select_from(Webhook)) == 0


def test_plain_http_and_unknown_kinds_are_refused_field_by_field(app, client, admin) -> None:
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    answer = client.post(HOOKS, headers=admin, json={
        "url": "http://93.184.215.14/hook", "kinds": ["help.requested"]})
    assert answer.status_code == 422
    assert "https://" in answer.get_json()["errors"]["json"]["url"][0]
    answer = client.post(HOOKS, headers=admin, json={
        "url": "https://93.184.215.14/hook", "kinds": ["account.deleted"]})
    assert answer.status_code == 422
    assert "kinds" in answer.get_json()["errors"]["json"]
    assert session.scalar(sa.select(sa.func.count()).select_from(Webhook)) == 0


def test_a_hook_failing_again_and_again_is_disabled_then_enabled_again(
        client, admin, member, wait) -> None:
    receiver = Receiver([500])
    try:
        hook = register(client, admin, receiver.url, ["initiative.published"])
        publish(client, member)
        wait()
    finally:
        receiver.stop()
    assert len(receiver.received) == 3  # WEBHOOK_MAX_FAILURES, then no more tries
    [shown] = client.get(HOOKS, headers=admin).get_json()
    assert not shown["enabled"]
    assert shown["failures"] == 3
    assert "3 failed deliveries in a row" in shown["disabled_reason"]
    assert "HTTP 500" in shown["disabled_reason"]
    [delivery] = client.get(f"{HOOKS}/{hook['id']}/deliveries", headers=admin).get_json()
    assert delivery["attempts"] == 3
    assert delivery["last_status"] == 500
    assert delivery["failed_at"]
    assert delivery["delivered_at"] is None
    publish(client, member)  # a disabled hook is told of nothing
    wait()
    assert session.scalar(sa.select(sa.func.count()).select_from(Delivery)) == 1
    enabled = client.post(f"{HOOKS}/{hook['id']}/enable", headers=admin)
    assert enabled.status_code == 200
    assert enabled.get_json()["enabled"]
    assert enabled.get_json()["failures"] == 0


def test_only_admins_manage_webhooks(client, admin, member) -> None:
    url = "https://93.184.215.14/hook"
    answer = client.post(HOOKS, json={"url": url, "kinds": ["help.requested"]}, headers=member)
    assert answer.status_code == 403
    assert answer.get_json()["message"] == "Only admins manage the webhooks of networks."
    assert client.get(HOOKS, headers=member).status_code == 403
    assert client.get(HOOKS).status_code == 401
    assert session.scalar(sa.select(sa.func.count()).select_from(Webhook)) == 0
    assert client.get("/api/v1/networks/nowhere/webhooks", headers=admin).status_code == 404


def test_a_deleted_hook_is_gone(client, admin) -> None:
    hook = register(client, admin, "https://93.184.215.14/hook", ["help.requested"])
    assert client.delete(f"{HOOKS}/{hook['id']}", headers=admin).status_code == 204
    assert client.get(HOOKS, headers=admin).get_json() == []
    assert client.delete(f"{HOOKS}/{hook['id']}", headers=admin).status_code == 404


def test_confidential_help_requests_never_reach_a_webhook(client, admin, wait) -> None:
    receiver = Receiver([200])
    try:
        register(client, admin, receiver.url, ["help.requested"])
        with transaction():
            for request_id, confidential in ((1, True), (2, False)):
                events.record(HelpRequested(
                    help_request_id=request_id, town_insee=LANNION, themes=["cybersecurite"],
                    title=f"Request {request_id}", circle="department",
                    confidential=confidential), actor_id=None)
        wait()
    finally:
        receiver.stop()
    assert [json.loads(body)["data"]["help_request_id"]
            for _headers, body in receiver.received] == [2]


def test_the_address_is_checked_again_at_each_try(app, client, admin, member, wait) -> None:
    """A name that led to a public address at registration and to a private one later
    (DNS rebinding) gets nothing: the try checks the address it connects to."""
    receiver = Receiver([200])
    try:
        hook = register(client, admin, receiver.url, ["initiative.published"])
        app.config["WEBHOOK_ALLOW_PRIVATE"] = False  # now 127.0.0.1 is refused
        publish(client, member)
        wait()
    finally:
        receiver.stop()
    assert receiver.received == []
    [delivery] = client.get(f"{HOOKS}/{hook['id']}/deliveries", headers=admin).get_json()
    assert delivery["last_status"] is None
    assert "https://" in delivery["last_error"]
