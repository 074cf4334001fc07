"""Password reset by mail, through a real SMTP server on loopback: the link arrives, sets the
password once, lifts a lockout; expired, tampered and used links change nothing."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from maillage.accounts.models import SignInFailure, User
from maillage.database import session, utcnow
from tests.support.mail import links, local, tampered

pytestmark = pytest.mark.smtp

OLD, NEW = "the old password", "a brand new password"


def _csrf(client: FlaskClient) -> str:
    page = client.get("/password/forgot").get_data(as_text=True)
    marker = 'name="csrf_token" value="'
    start = page.index(marker) + len(marker)
    return page[start:page.index('"', start)]


def _ask(client: FlaskClient, email: str) -> str:
    answer = client.post("/password/forgot", data={"csrf_token": _csrf(client), "email": email})
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def _sign_in(client: FlaskClient, email: str, password: str) -> int:
    return client.post("/sign-in", data={"csrf_token": _csrf(client), "email": email,
                                         "password": password}).status_code


def _mailed_link(smtp, wait, email: str) -> str:
    wait()
    [message] = smtp.to(email)
    smtp.messages.remove(message)
    assert message["Subject"] == "Choisir un nouveau mot de passe Maillage"
    assert message["List-Unsubscribe"] is None
    [link] = [link for link in links(message.get_body(("plain",)).get_content())
              if "/password/reset/" in link]
    assert link in message.get_body(("html",)).get_content()
    return local(link)


def _reset(client: FlaskClient, link: str, password: str):
    return client.post(link, data={"csrf_token": _csrf(client), "password": password})


def _hash(user: User) -> str | None:
    session.expire_all()
    return session.get(User, user.id).password_hash


def test_the_mailed_link_sets_the_password_once(create_user, smtp, wait, client) -> None:
    user = create_user("maire@lannion.fr", password=OLD)
    assert "Mot de passe oublié ?" in client.get("/sign-in").get_data(as_text=True)

    page = _ask(client, "Maire@Lannion.fr")
    assert "si un compte utilise l'adresse" in page.lower()
    link = _mailed_link(smtp, wait, "maire@lannion.fr")

    form = client.get(link)
    assert form.status_code == 200
    assert "maire@lannion.fr" in form.get_data(as_text=True)
    short = _reset(client, link, "short")
    assert short.status_code == 422
    assert "Between 10 and 200 characters." in short.get_data(as_text=True)
    assert _sign_in(client, "maire@lannion.fr", OLD) == 303, "a refused form changes nothing"
    client.post("/sign-out", data={"csrf_token": _csrf(client)})

    done = _reset(client, link, NEW)
    assert done.status_code == 303
    assert client.get("/api/v1/me").get_json()["email"] == "maire@lannion.fr", "signed in"
    client.post("/sign-out", data={"csrf_token": _csrf(client)})
    assert client.get("/api/v1/me").status_code == 401

    assert _sign_in(client, "maire@lannion.fr", OLD) == 422
    assert _sign_in(client, "maire@lannion.fr", NEW) == 303
    client.post("/sign-out", data={"csrf_token": _csrf(client)})

    changed = _hash(user)
    assert client.get(link).status_code == 404, "the link works once"
    used = _reset(client, link, "yet another password")
    assert used.status_code == 404
    assert "pas valide ou a expiré" in used.get_data(as_text=True)
    assert _hash(user) == changed
    assert client.get("/api/v1/me").status_code == 401


def test_expired_and_tampered_links_change_nothing(make_app, create_user, smtp, wait) -> None:
    app = make_app(SMTP_URL=smtp.url, PASSWORD_RESET_MAX_AGE=timedelta(0))
    client = app.test_client()
    user = create_user("agent@lannion.fr", password=OLD)
    _ask(client, "agent@lannion.fr")
    assert app.extensions["maillage.queues"].join(timeout=30)
    link = _mailed_link(smtp, wait, "agent@lannion.fr")
    before = _hash(user)

    other_user = link.replace(f"/password/reset/{user.id}.", f"/password/reset/{user.id + 1}.")
    assert other_user != link
    for forged in (tampered(link), other_user, "/password/reset/garbage",
                   f"/password/reset/{2**40}.x.y"):
        assert client.get(forged).status_code == 404
        assert _reset(client, forged, NEW).status_code == 404

    time.sleep(1.05)  # past a max age of 0 seconds
    expired = _reset(client, link, NEW)
    assert expired.status_code == 404
    assert "pas valide ou a expiré" in expired.get_data(as_text=True)
    assert _hash(user) == before
    assert _sign_in(client, "agent@lannion.fr", OLD) == 303


def test_an_unknown_address_gets_the_same_answer_and_no_mail(create_user, smtp, wait,
                                                             client) -> None:
    create_user("maire@lannion.fr", password=OLD)
    known = _ask(client, "maire@lannion.fr").replace("maire@lannion.fr", "ADDRESS")
    unknown = _ask(client, "personne@lannion.fr").replace("personne@lannion.fr", "ADDRESS")
    strip = [line for line in known.splitlines() if "csrf" not in line]
    assert strip == [line for line in unknown.splitlines() if "csrf" not in line]
    wait()
    assert [m["To"] for m in smtp.messages] == ["maire@lannion.fr"]
    assert smtp.attempts == ["maire@lannion.fr"]

    refused = client.post("/password/forgot", data={"csrf_token": _csrf(client),
                                                    "email": "not an address"})
    assert refused.status_code == 422
    assert "Not a valid email address." in refused.get_data(as_text=True)


def test_a_reset_lifts_the_lockout(make_app, create_user, smtp, wait) -> None:
    app = make_app(SMTP_URL=smtp.url, LOCKOUT_ATTEMPTS=2)
    client = app.test_client()
    user = create_user("maire@lannion.fr", password=OLD)
    assert [_sign_in(client, "maire@lannion.fr", "wrong") for _ in range(2)] == [422, 422]
    session.expire_all()
    [locked] = session.scalars(sa.select(SignInFailure)).all()
    assert (locked.user_id, locked.failures) == (user.id, 2)
    assert locked.locked_until > utcnow()
    assert _sign_in(client, "maire@lannion.fr", OLD) == 422, "locked"

    _ask(client, "maire@lannion.fr")
    assert app.extensions["maillage.queues"].join(timeout=30)
    assert _reset(client, _mailed_link(smtp, wait, "maire@lannion.fr"), NEW).status_code == 303
    session.expire_all()
    assert session.scalars(sa.select(SignInFailure)).all() == []
    client.post("/sign-out", data={"csrf_token": _csrf(client)})
    assert _sign_in(client, "maire@lannion.fr", NEW) == 303


def test_a_passwordless_account_can_choose_one(create_user, smtp, wait, client) -> None:
    user = create_user("oidc@lannion.fr")
    _ask(client, "oidc@lannion.fr")
    link = _mailed_link(smtp, wait, "oidc@lannion.fr")
    assert _reset(client, link, NEW).status_code == 303
    assert _hash(user) is not None
    assert client.get(link).status_code == 404


def test_asking_is_limited_like_signing_in(make_app) -> None:
    client = make_app(RATE_LIMIT_SIGN_IN="2 per minute").test_client()
    token = _csrf(client)
    form = {"csrf_token": token, "email": "personne@lannion.fr"}
    assert [client.post("/password/forgot", data=form).status_code for _ in range(2)] == [200] * 2
    assert client.post("/password/forgot", data=form).status_code == 429


def test_a_reset_signs_out_the_sessions_opened_before(app, create_user, smtp, wait,
                                                      client) -> None:
    create_user("maire@lannion.fr", password=OLD)
    laptop = app.test_client()  # signed in somewhere else, with the old password
    assert _sign_in(laptop, "maire@lannion.fr", OLD) == 303
    assert laptop.get("/api/v1/me").status_code == 200

    _ask(client, "maire@lannion.fr")
    assert _reset(client, _mailed_link(smtp, wait, "maire@lannion.fr"), NEW).status_code == 303
    assert client.get("/api/v1/me").status_code == 200, "whoever reset it is signed in"
    assert laptop.get("/api/v1/me").status_code == 401
    assert _sign_in(laptop, "maire@lannion.fr", NEW) == 303
    assert laptop.get("/api/v1/me").status_code == 200
