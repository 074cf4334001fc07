"""No account taken over, no address used without its owner: the holes of issue 17, tried
through HTTP and Socket.IO as an attacker would, with mail through a real SMTP server.

Each test is one hole as it was found on an embedded instance; it fails on the code before
the fix (the id reused, the old cookie loading the next account, the unconfirmed sign-up
posting, the second confirmation mail) and passes now, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from maillage.accounts.models import Scope, User
from maillage.database import Base, session, utcnow
from maillage.emails.models import EmailPreference, Frequency, Subscription
from maillage.emails.runs import send_digests
from maillage.events import Event
from maillage.mail.models import ConfirmationMail
from maillage.realtime import emit_notifications, socketio
from tests.support.api import bearer
from tests.support.mail import links, local

pytestmark = pytest.mark.smtp

PASSWORD = "a long enough password"


def csrf_of(client: FlaskClient, page: str = "/sign-in") -> str:
    html = client.get(page).get_data(as_text=True)
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


def sign_up(client: FlaskClient, email: str, password: str = PASSWORD) -> int:
    answer = client.post("/sign-up", data={"csrf_token": csrf_of(client), "email": email,
                                           "display_name": email.split("@")[0],
                                           "password": password})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return client.get("/api/v1/me").json["id"]


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> int:
    return client.post("/sign-in", data={"csrf_token": csrf_of(client), "email": email,
                                         "password": password}).status_code


def mailed(smtp, wait, email: str, path: str) -> str:
    """The one link to `path` in the one message mailed to `email` since the last call."""
    wait()
    [message] = smtp.to(email)
    smtp.messages.remove(message)
    [link] = [link for link in links(message.get_body(("plain",)).get_content())
              if path in link]
    return local(link)


def confirm(client: FlaskClient, link: str) -> int:
    return client.post(link, data={"csrf_token": csrf_of(client)}).status_code


def delete_account(client: FlaskClient, password: str = PASSWORD) -> None:
    answer = client.post("/account/delete", data={"csrf_token": csrf_of(client, "/account"),
                                                  "password": password})
    assert answer.status_code == 303, answer.get_data(as_text=True)


def copy_of(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding the same session cookie: a stolen or copied one."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


# 1. Identity reuse


def test_a_deleted_account_cookie_never_signs_in_the_next_account(app, client, smtp,
                                                                  wait) -> None:
    first = sign_up(client, "premier@lannion.fr")
    stolen = copy_of(app, client)
    assert stolen.get("/api/v1/me").json["id"] == first
    delete_account(client)

    newcomer = app.test_client()
    second = sign_up(newcomer, "second@lannion.fr")
    assert second != first, "an id was given again"
    assert stolen.get("/api/v1/me").status_code == 401


def test_links_of_a_deleted_account_act_on_nobody(app, client, create_user, smtp,
                                                  wait) -> None:
    create_user("parti@lannion.fr", password=PASSWORD)
    client.post("/password/forgot", data={"csrf_token": csrf_of(client),
                                          "email": "parti@lannion.fr"})
    reset = mailed(smtp, wait, "parti@lannion.fr", "/password/reset/")
    assert sign_in(client, "parti@lannion.fr") == 303
    delete_account(client)

    successor = create_user("suivant@lannion.fr", password=PASSWORD)
    answer = client.post(reset, data={"csrf_token": csrf_of(client), "password": "x" * 12})
    assert answer.status_code == 404
    assert sign_in(app.test_client(), "suivant@lannion.fr") == 303
    assert session.get(User, successor.id) is not None


def test_an_unsubscribe_link_of_a_deleted_account_acts_on_nobody(app, create_user, smtp,
                                                                  wait) -> None:
    create_user("parti@lannion.fr", password=PASSWORD, town="22113", verified=True)
    wait()
    [notice] = smtp.to("parti@lannion.fr")
    [link] = [local(link) for link in links(notice.get_body(("plain",)).get_content())
              if "/unsubscribe/" in link]
    browser = app.test_client()
    assert sign_in(browser, "parti@lannion.fr") == 303
    delete_account(browser)

    successor = create_user("suivant@lannion.fr")
    assert browser.post(link).status_code == 404
    assert session.get(EmailPreference, successor.id) is None, "the successor unsubscribed"


@pytest.mark.usefixtures("smtp")
def test_no_table_keyed_by_id_gives_an_id_again(app) -> None:
    """Every table whose id travels in a link, cookie or token draws ids that only grow."""
    keyed = [table.name for table in Base.metadata.sorted_tables
             if [column.name for column in table.primary_key.columns] == ["id"]]
    assert {"users", "subscriptions", "api_tokens", "notifications", "help_offers"} <= \
        set(keyed)
    bind = session.get_bind()
    for name in keyed:
        if bind.dialect.name == "sqlite":
            sql = session.scalar(sa.text("SELECT sql FROM sqlite_master WHERE name = :name"),
                                 {"name": name})
            assert "AUTOINCREMENT" in sql, name
        else:
            assert session.scalar(sa.text("SELECT pg_get_serial_sequence(:table, 'id')"),
                                  {"table": name}), name


def test_an_old_confirmation_link_confirms_no_later_subscription(client, smtp, wait) -> None:
    subscribe(client, "lecteur@lannion.fr")
    link = mailed(smtp, wait, "lecteur@lannion.fr", "/subscriptions/confirm/")
    assert confirm(client, link) == 200
    with_links = session.scalar(sa.select(Subscription))
    session.delete(with_links)
    session.commit()

    subscribe(client, "autre@lannion.fr")
    assert confirm(client, link) == 404
    session.expire_all()
    assert session.scalar(sa.select(Subscription.confirmed_at)) is None
    assert "/subscriptions/confirm/" in mailed(smtp, wait, "autre@lannion.fr",
                                               "/subscriptions/confirm/")


# 2. Pre-takeover: an address used without its owner


def test_a_sign_up_reads_but_writes_nothing_and_gets_no_mail_until_confirmed(
        app, client, create_user, smtp, wait) -> None:
    sign_up(client, "agent@lannion.fr")
    link = mailed(smtp, wait, "agent@lannion.fr", "/account/confirm/")
    assert client.get("/initiatives").status_code == 200
    token = csrf_of(client)
    headers = {"X-CSRFToken": token}
    assert client.put("/api/v1/me/expertise", json={"themes": ["cybersecurite"]},
                      headers=headers).status_code == 403
    assert client.post("/api/v1/reports", json={"kind": "initiative", "target_id": 1,
                                                "reason": "spam"},
                       headers=headers).status_code == 403

    # Mail scanners follow links: a GET shows a button and confirms nothing.
    page = client.get(link)
    assert page.status_code == 200
    assert "agent@lannion.fr" in page.get_data(as_text=True)
    assert client.get("/api/v1/me").json["email_confirmed"] is False
    assert confirm(app.test_client(), link) == 303
    assert client.get("/api/v1/me").json["email_confirmed"] is True


def test_an_unconfirmed_account_is_mailed_nothing_but_its_confirmation(
        app, client, create_user, smtp, wait) -> None:
    sign_up(client, "squat@lannion.fr")
    mailed(smtp, wait, "squat@lannion.fr", "/account/confirm/")
    for _ in range(3):
        assert client.post("/account/confirmation",
                           data={"csrf_token": csrf_of(client)}).status_code == 303
    wait()
    assert smtp.to("squat@lannion.fr") == [], "a second confirmation within minutes"

    send_digests(Frequency.WEEKLY, now=utcnow() + timedelta(days=8))
    wait()
    assert smtp.to("squat@lannion.fr") == []


def test_a_reset_takes_the_account_back_from_whoever_registered_the_address(
        app, create_user, smtp, wait) -> None:
    squatter = app.test_client()
    sign_up(squatter, "maire@lannion.fr", "the squatter's password")
    mailed(smtp, wait, "maire@lannion.fr", "/account/confirm/")
    headers = {"X-CSRFToken": csrf_of(squatter)}
    secret = squatter.post("/api/v1/me/tokens", json={"scope": "read", "name": "door"},
                           headers=headers).json["secret"]
    assert squatter.get("/api/v1/me", headers=bearer(secret)).status_code == 200

    owner = app.test_client()
    owner.post("/password/forgot", data={"csrf_token": csrf_of(owner),
                                         "email": "maire@lannion.fr"})
    reset = mailed(smtp, wait, "maire@lannion.fr", "/password/reset/")
    assert owner.post(reset, data={"csrf_token": csrf_of(owner),
                                   "password": "the owner's password"}).status_code == 303

    assert squatter.get("/api/v1/me").status_code == 401
    assert squatter.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    assert sign_in(app.test_client(), "maire@lannion.fr", "the squatter's password") == 422
    me = owner.get("/api/v1/me").json
    assert me["email_confirmed"] is True
    wait()
    [notice] = smtp.to("maire@lannion.fr")
    text = notice.get_body(("plain",)).get_content()
    assert "mot de passe" in text
    assert "votre jeton d'accès personnel est révoqué" in text, \
        "the owner is told the squatter's token was revoked"


# 3. Mailing abuse


def subscribe(client: FlaskClient, email: str) -> str:
    answer = client.post("/subscribe", data={"csrf_token": csrf_of(client, "/subscribe"),
                                             "email": email, "themes": "cybersecurite",
                                             "frequency": "weekly"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_data(as_text=True)


def test_one_address_whatever_its_case_and_few_confirmations_a_day(client, smtp,
                                                                   wait) -> None:
    pages = [subscribe(client, address) for address in
             ("Maire@Ville-Lannion.fr", "maire@ville-lannion.fr", "MAIRE@VILLE-LANNION.FR")]
    assert len({page.lower() for page in pages}) == 1, "the answers tell the requests apart"
    assert session.scalar(sa.select(sa.func.count()).select_from(Subscription)) == 1
    wait()
    assert len(smtp.messages) == 1

    # Later in the day, two more at most.
    for _ in range(4):
        for mail in session.scalars(sa.select(ConfirmationMail)):
            mail.sent_at -= timedelta(minutes=11)
        session.commit()
        subscribe(client, "maire@ville-lannion.fr")
    wait()
    assert len(smtp.messages) == 3
    # Every link mailed names the one request, which holds what was asked last.
    [secret] = session.scalars(sa.select(Subscription.secret)).all()
    assert all(secret in message.get_body(("plain",)).get_content()
               for message in smtp.messages)


def test_a_subscription_is_confirmed_by_its_button_not_by_following_the_link(
        client, smtp, wait) -> None:
    subscribe(client, "veille@lannion.fr")
    link = mailed(smtp, wait, "veille@lannion.fr", "/subscriptions/confirm/")
    page = client.get(link)
    assert page.status_code == 200
    assert 'method="post"' in page.get_data(as_text=True)
    assert session.scalar(sa.select(Subscription.confirmed_at)) is None
    assert confirm(client, link) == 200
    session.expire_all()
    assert session.scalar(sa.select(Subscription.confirmed_at)) is not None


# 6. Cookies and tokens, sockets, lockouts


def test_a_bearer_request_is_the_token_owner_s_whatever_cookie_comes_with_it(
        client, create_user, sign_in, token_for) -> None:
    alice, bob = create_user(), create_user()
    sign_in(alice)
    assert client.get("/api/v1/me").json["id"] == alice.id
    assert client.get("/api/v1/me", headers=bearer(token_for(bob, Scope.READ))).json["id"] \
        == bob.id
    # A read token with the cookie of a signed-in browser still only reads.
    assert client.put("/api/v1/me/email-preferences", json={"frequency": "daily"},
                      headers=bearer(token_for(bob, Scope.READ))).status_code == 403


def connect_with_cookie(app: Flask, browser: FlaskClient):  # type: ignore[no-untyped-def]
    with app.app_context():
        socket = socketio.test_client(app, flask_test_client=browser)
    assert socket.is_connected()
    return socket


def test_sign_out_closes_the_sockets_that_browser_opened_and_no_other(app, wait) -> None:
    laptop, phone = app.test_client(), app.test_client()
    sign_up(laptop, "elue@lannion.fr")
    sign_in(phone, "elue@lannion.fr")
    laptop_socket, phone_socket = connect_with_cookie(app, laptop), connect_with_cookie(app,
                                                                                         phone)
    assert laptop.post("/sign-out", data={"csrf_token": csrf_of(laptop)}).status_code == 303
    wait()
    assert not laptop_socket.is_connected()
    assert phone_socket.is_connected()


@pytest.mark.parametrize("how", ["everywhere", "password change", "reset", "deletion"])
def test_ending_the_sessions_closes_every_socket_and_session(app, smtp, wait, how: str) -> None:
    laptop, phone = app.test_client(), app.test_client()
    user_id = sign_up(laptop, "elu@lannion.fr")
    sign_in(phone, "elu@lannion.fr")
    phone_socket = connect_with_cookie(app, phone)
    if how == "everywhere":
        answer = laptop.post("/sign-out/everywhere", data={"csrf_token": csrf_of(laptop)})
    elif how == "password change":
        answer = laptop.post("/settings/security", data={
            "csrf_token": csrf_of(laptop), "current_password": PASSWORD,
            "password": "another long password"})
    elif how == "reset":
        mailed(smtp, wait, "elu@lannion.fr", "/account/confirm/")
        laptop.post("/password/forgot", data={"csrf_token": csrf_of(laptop),
                                              "email": "elu@lannion.fr"})
        reset = mailed(smtp, wait, "elu@lannion.fr", "/password/reset/")
        answer = laptop.post(reset, data={"csrf_token": csrf_of(laptop),
                                          "password": "another long password"})
    else:
        answer = laptop.post("/account/delete", data={
            "csrf_token": csrf_of(laptop, "/account"), "password": PASSWORD})
    assert answer.status_code == 303
    wait()
    assert not phone_socket.is_connected()
    with app.app_context():  # closed once, by an event processed at its first try
        assert session.execute(sa.select(Event.kind, Event.tries, Event.failed_at).where(
            Event.processed_at.is_(None))).all() == []
        assert session.scalars(sa.select(Event.tries)).all() == [1] * session.scalar(
            sa.select(sa.func.count()).select_from(Event))
        session.remove()
    assert phone.get("/api/v1/me").status_code == 401
    if how in ("password change", "reset"):
        assert laptop.get("/api/v1/me").status_code == 200, "the changing browser goes on"
    else:
        assert laptop.get("/api/v1/me").status_code == 401
    # The old cookie opens a socket of nobody: the account's notifications never reach it.
    with app.app_context():
        again = socketio.test_client(app, flask_test_client=phone)
        emit_notifications([(user_id, 1)])
    assert again.get_received() == []


def test_a_stranger_s_wrong_passwords_do_not_lock_the_owner_out(make_app,
                                                                 create_user) -> None:
    app = make_app(RATE_LIMIT_SIGN_IN="100 per minute", LOCKOUT_ATTEMPTS=3)
    create_user("dgs@lannion.fr", password=PASSWORD)
    stranger = app.test_client()
    stranger.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    owner = app.test_client()
    owner.environ_base["REMOTE_ADDR"] = "198.51.100.4"
    assert [sign_in(stranger, "dgs@lannion.fr", f"guess {n}") for n in range(4)] == [422] * 4
    assert sign_in(stranger, "dgs@lannion.fr") == 422, "locked from the stranger's address"
    assert sign_in(owner, "dgs@lannion.fr") == 303
