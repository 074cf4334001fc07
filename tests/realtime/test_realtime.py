"""The live channel: who a connection is, which rooms it may listen to, what reaches whom."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import socketio as socketio_client
from flask import Flask
from gevent import monkey
from socketio.pubsub_manager import PubSubManager
from werkzeug.serving import make_server

from maillage import realtime
from maillage.accounts import queries
from maillage.accounts.models import Scope
from maillage.database import session, transaction, utcnow
from maillage.initiatives.models import Initiative, Status
from maillage.realtime import emit_activity, emit_notifications, socketio
from tests.support.listeners import Listener

PUBLIC = ["theme:cybersecurite", "town:29103", "help"]


@pytest.fixture
def listen(app: Flask) -> Iterator[Callable[..., Listener]]:
    """Return a factory of connections to the app's live channel, closed afterwards."""
    listeners: list[Listener] = []

    def connect(**kwargs: Any) -> Listener:
        listener = Listener(app, **kwargs)
        listeners.append(listener)
        return listener

    yield connect
    for listener in listeners:
        if listener.is_connected():
            listener.client.disconnect()


def create_initiative(*, hidden: bool = False) -> int:
    with transaction() as db:
        initiative = Initiative(
            town_insee="29103", title="Un tiers-lieu numérique", summary="Un lieu ouvert.",
            body="Un lieu **ouvert**.", body_html="<p>Un lieu <strong>ouvert</strong>.</p>",
            status=Status.IDEA, hidden_at=utcnow() if hidden else None,
        )
        db.add(initiative)
        db.flush()
        return initiative.id


def test_a_token_in_the_handshake_puts_the_connection_in_its_user_room(
        listen, create_user, token_for) -> None:
    alice, bob = create_user(), create_user()
    alice_secret = token_for(alice, Scope.READ)
    alices = listen(auth={"token": alice_secret})
    bobs = listen(auth={"token": token_for(bob, Scope.WRITE)})
    assert alices.is_connected()
    assert bobs.is_connected()

    emit_notifications([(alice.id, 7)])

    assert alices.received() == [("notification", {"id": 7})]
    assert bobs.received() == []
    assert queries.token_by_secret(alice_secret).last_used_at is not None


def test_the_session_cookie_puts_the_connection_in_its_user_room(
        app, listen, create_user, sign_in) -> None:
    alice = create_user()
    alices = listen(flask_test_client=sign_in(alice))
    nobodys = listen(flask_test_client=app.test_client())

    emit_notifications([(alice.id, 7)])

    assert alices.received() == [("notification", {"id": 7})]
    assert nobodys.received() == []


def test_a_token_wins_over_the_cookie(listen, create_user, sign_in, token_for) -> None:
    alice, bob = create_user(), create_user()
    listener = listen(flask_test_client=sign_in(alice), auth={"token": token_for(bob)})

    emit_notifications([(alice.id, 1), (bob.id, 2)])

    assert listener.received() == [("notification", {"id": 2})]


@pytest.mark.parametrize("auth", [{"token": "wrong"}, {"token": ""}, {"token": 42}, "wrong"])
def test_a_wrong_token_is_refused(listen, auth) -> None:
    assert not listen(auth=auth).is_connected()


def test_a_revoked_token_is_refused(listen, create_user, token_for) -> None:
    secret = token_for(create_user())
    with transaction():
        queries.token_by_secret(secret).revoked_at = utcnow()
    assert not listen(auth={"token": secret}).is_connected()


def test_signed_out_connections_may_listen_to_public_rooms_that_exist(listen) -> None:
    visible, hidden = create_initiative(), create_initiative(hidden=True)
    listener = listen()
    assert listener.is_connected()

    ack = listener.ask("subscribe", {"rooms": [
        "theme:nope", "theme:cybersecurite", "town:00000", "town:29103", "initiative:999999",
        "user:1", "garbage", "initiative:abc", f"initiative:{hidden}", "help",
        f"initiative:{visible}", "help", "town:2a004", f"initiative:0{visible}", "theme:",
    ]})

    assert ack == {"rooms": [*PUBLIC, f"initiative:{visible}"]}


def test_nobody_may_listen_to_a_user_room_not_even_their_own(
        listen, create_user, token_for) -> None:
    alice, bob = create_user(), create_user()
    bobs = listen(auth={"token": token_for(bob)})
    ack = bobs.ask("subscribe", {"rooms": [f"user:{alice.id}", f"user:{bob.id}"]})
    assert ack == {"rooms": []}

    emit_notifications([(alice.id, 3)])
    assert bobs.received() == []


def test_unsubscribe_acknowledges_the_rooms_left(listen, create_user, token_for) -> None:
    alice = create_user()
    listener = listen(auth={"token": token_for(alice)})
    listener.ask("subscribe", {"rooms": PUBLIC})

    ack = listener.ask("unsubscribe", {"rooms": [
        "help", "help", "town:22113", f"user:{alice.id}", "garbage",
    ]})
    assert ack == {"rooms": ["help"]}

    emit_activity(["help"], {"kind": "question"})
    emit_notifications([(alice.id, 4)])
    assert listener.received() == [("notification", {"id": 4})]


@pytest.mark.parametrize("event", ["subscribe", "unsubscribe"])
@pytest.mark.parametrize("args", [
    (), (None,), ("help",), (["help"],), ({},), ({"rooms": "help"},), ({"rooms": ["help", 1]},),
    ({"rooms": [["help"]]},), ({"rooms": ["help"] * 51},),
])
def test_bad_payloads_are_answered_with_an_error(listen, event, args) -> None:
    ack = listen().ask(event, *args)
    assert ack["rooms"] == []
    assert isinstance(ack["error"], str)
    assert ack["error"]


def test_a_surplus_argument_is_ignored(listen) -> None:
    listener = listen()
    assert listener.ask("subscribe", {"rooms": ["help"]}, "extra") == {"rooms": ["help"]}
    assert listener.ask("unsubscribe", {"rooms": ["help"]}, "extra") == {"rooms": ["help"]}


def test_activity_reaches_the_listeners_of_its_rooms_once(listen) -> None:
    theirs, others = listen(), listen()
    assert theirs.ask("subscribe", {"rooms": PUBLIC}) == {"rooms": PUBLIC}
    others.ask("subscribe", {"rooms": ["town:29103"]})

    emit_activity(["theme:cybersecurite", "help"], {"kind": "initiative", "id": 5})

    assert theirs.received() == [("activity", {"kind": "initiative", "id": 5})]
    assert others.received() == []


def test_activity_refuses_private_or_misspelt_rooms_and_sends_nothing_to_no_room(
        listen) -> None:
    listener = listen()
    listener.ask("subscribe", {"rooms": PUBLIC})
    for wrong in (["user:1"], ["town:2a004"], ["help", "garbage"]):
        with pytest.raises(ValueError, match="not public room names"):
            emit_activity(wrong, {})
    emit_activity([], {"kind": "everyone?"})
    assert listener.received() == []


def test_handlers_leave_no_transaction_open(app, create_user, token_for) -> None:
    # Straight in the test's app context, whose teardown does not come between handlers.
    secret = token_for(create_user())
    session.remove()
    engine = app.extensions["maillage.engine"]
    client = socketio.test_client(app, auth={"token": secret})
    client.emit("subscribe", {"rooms": PUBLIC}, callback=True)
    assert engine.pool.checkedout() == 0
    client.disconnect()


def test_an_app_without_redis_keeps_no_message_queue_of_an_app_before_it(make_app) -> None:
    make_app(REDIS_URL="redis://127.0.0.1:6379/0")  # connects to nothing until a socket comes
    assert isinstance(socketio.server.manager, PubSubManager)
    make_app()
    assert not isinstance(socketio.server.manager, PubSubManager)


def test_the_async_mode_follows_the_monkey_patching(app, make_app, monkeypatch) -> None:
    assert app.extensions["socketio"].async_mode == "threading"
    monkeypatch.setattr(monkey, "is_module_patched", lambda name: name == "socket")
    assert realtime.async_mode(app) == "gevent"
    assert realtime.async_mode(make_app(SOCKETIO_ASYNC_MODE="threading")) == "threading"


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """Serve the app on a free port with threads, as `maillage serve --reload` does.

    The clients below use long-polling: their WebSocket close waits three seconds for the
    development server's answer, and the handlers are the same whatever the transport.
    """
    server = make_server("127.0.0.1", 0, app, threaded=True)
    serving = threading.Thread(target=server.serve_forever)
    serving.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    serving.join()
    server.server_close()


def test_a_real_client_over_a_real_server(app, live_server, create_user, token_for) -> None:
    alice = create_user()
    client = socketio_client.Client()
    arrived = threading.Event()
    messages: list[tuple[str, Any]] = []

    def on(event: str) -> Callable[[Any], None]:
        def record(data: Any) -> None:
            messages.append((event, data))
            if len(messages) == 2:
                arrived.set()
        return record

    client.on("notification", on("notification"))
    client.on("activity", on("activity"))
    client.connect(live_server, auth={"token": token_for(alice, Scope.READ)},
                   transports=["polling"], wait_timeout=10)
    try:
        assert client.call("subscribe", {"rooms": ["help", "town:00000"]}, timeout=10) == \
            {"rooms": ["help"]}
        emit_notifications([(alice.id, 8)])
        emit_activity(["help"], {"kind": "question", "id": 9})
        assert arrived.wait(10)
        assert sorted(messages) == [("activity", {"kind": "question", "id": 9}),
                                    ("notification", {"id": 8})]
        session.remove()
        assert app.extensions["maillage.engine"].pool.checkedout() == 0
    finally:
        client.disconnect()


def test_a_real_client_is_told_why_it_is_refused(live_server) -> None:
    client = socketio_client.Client()
    reasons: list[Any] = []
    client.on("connect_error", reasons.append)
    with pytest.raises(socketio_client.exceptions.ConnectionError):
        client.connect(live_server, auth={"token": "wrong"}, transports=["polling"],
                       wait_timeout=10)
    assert reasons == [{"message": "This token is unknown or revoked."}]
