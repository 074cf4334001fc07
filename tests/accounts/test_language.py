"""The member's language: chosen on the settings page, by the switch at the foot of each page
or through the API, defaulted from the browser at sign-up, and the language of every page and
every mail to them whatever browser asks; email-only subscribers choose theirs when they
subscribe. Mail is read on the loopback SMTP server."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from maillage.accounts.models import Role, Scope, User
from maillage.database import session, transaction
from maillage.emails.models import Frequency, Subscription
from maillage.emails.runs import send_digests
from maillage.events import Event
from maillage.follows.models import Follow
from maillage.initiatives.operations import publish_initiative
from maillage.notifications.models import Notification
from maillage.themes.queries import get_theme
from tests.support.mail import links, local

pytestmark = pytest.mark.smtp

LANNION = "22113"
FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
# Sunday 29 March 2026 at noon; the weekly digest of Monday 30 March, 07:00 in Paris, holds it.
IN_THE_WEEK, RUN = datetime(2026, 3, 29, 12, tzinfo=UTC), datetime(2026, 3, 30, 5, 10,
                                                                       tzinfo=UTC)
PASSWORD = "a long enough password"


def _csrf(client: FlaskClient, path: str = "/sign-in", headers: dict[str, str] | None = None
          ) -> str:
    page = client.get(path, headers=headers or {}).get_data(as_text=True)
    marker = 'name="csrf_token" value="'
    start = page.index(marker) + len(marker)
    return page[start:page.index('"', start)]


def _locale(user_id: int) -> str:
    session.expire_all()
    return session.get(User, user_id).locale


def _text(message) -> str:
    """The text part, its lines ended by newlines (mail ends them with CRLF)."""
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def _html(message) -> str:
    return message.get_body(("html",)).get_content()


def test_a_member_chooses_english_on_the_settings_page(create_user, sign_in, client) -> None:
    user = create_user("maire@lannion.fr")
    sign_in(user)
    page = client.get("/settings", headers=ENGLISH).get_data(as_text=True)
    assert "<h1>Vos paramètres</h1>" in page, "the account's French wins over the browser"
    assert 'action="/settings/language"' in page
    assert re.search(r'<input type="radio" id="locale-fr" name="locale" value="fr"\s*checked>',
                     page)
    assert '<label for="locale-en" class="inline" lang="en">English</label>' in page

    assert '<input type="hidden" name="next" value="/settings">' in page
    chosen = client.post("/settings/language", data={
        "csrf_token": _csrf(client, "/settings"), "locale": "en"}, headers=FRENCH)
    assert chosen.status_code == 303
    assert chosen.headers["Location"] == "/settings/language", "without next, its own page"
    assert "lang=en" in chosen.headers["Set-Cookie"], "the browser keeps it once signed out"
    assert _locale(user.id) == "en"
    page = client.get("/settings/language", headers=FRENCH).get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Your pages and emails are now in English." in page
    assert re.search(r'value="en"\s*checked>', page)
    # Every page, whatever the browser and the cookie say.
    client.set_cookie("lang", "fr")
    home = client.get("/", headers=FRENCH).get_data(as_text=True)
    assert ">Help</a>" in home
    assert client.get("/api/v1/me").get_json()["locale"] == "en"


def test_the_switch_at_the_foot_of_a_page_sets_the_account(create_user, sign_in,
                                                           client) -> None:
    user = create_user("maire@lannion.fr")
    sign_in(user)
    page = client.get("/themes").get_data(as_text=True)
    footer = page[page.index('<footer class="site">'):]
    assert '<form method="post" action="/settings/language">' in footer
    assert '<input type="hidden" name="next" value="/themes">' in footer
    assert '<button type="submit" class="link" name="locale" value="en" lang="en">' in footer
    assert "/language/en" not in footer, "no link that only sets a cookie the account outranks"

    back = client.post("/settings/language", data={
        "csrf_token": _csrf(client), "locale": "en", "next": "/themes"})
    assert (back.status_code, back.headers["Location"]) == (303, "/themes")
    assert ">Towns</a>" in client.get("/themes", headers=FRENCH).get_data(as_text=True)
    assert _locale(user.id) == "en"
    # A forged form, without the session's CSRF token, changes nothing.
    forged = client.post("/settings/language", data={"locale": "fr", "next": "/themes"})
    assert forged.status_code == 400
    assert _locale(user.id) == "en"
    # No open redirect either.
    away = client.post("/settings/language", data={
        "csrf_token": _csrf(client), "locale": "fr", "next": "//elsewhere.example"})
    assert away.headers["Location"] == "/settings/language"


def test_visitors_keep_their_switch_and_signing_in_brings_the_accounts(create_user,
                                                                        client) -> None:
    create_user("member@example.org", password=PASSWORD)
    with transaction():
        session.execute(sa.update(User).values(locale="en"))
    client.get("/language/fr?next=/")
    assert ">Communes</a>" in client.get("/", headers=ENGLISH).get_data(as_text=True)
    signed = client.post("/sign-in", data={"csrf_token": _csrf(client), "email":
                                           "member@example.org", "password": PASSWORD})
    assert signed.status_code == 303
    assert ">Towns</a>" in client.get("/", headers=FRENCH).get_data(as_text=True)
    client.post("/sign-out", data={"csrf_token": _csrf(client)})
    assert ">Communes</a>" in client.get("/", headers=ENGLISH).get_data(as_text=True), \
        "signed out, the visitor's own choice again"


def test_bad_languages_are_refused_field_by_field(create_user, sign_in, client,
                                                  token_for) -> None:
    user = create_user("maire@lannion.fr")
    sign_in(user)
    for data in ({"locale": "de"}, {"locale": "EN"}, {"locale": "en-GB"}, {}):
        answer = client.post("/settings/language",
                             data={"csrf_token": _csrf(client, "/settings"), **data})
        assert answer.status_code == 422, data
        page = answer.get_data(as_text=True)
        message = "Choose fr (French) or en (English)." if data \
            else "Missing data for required field."
        assert f'<p class="error" id="locale-error">{message}</p>' in page, data
        assert '<a href="#locale">' in page
    bearer = {"Authorization": "Bearer " + token_for(user)}
    for body, errors in (({"locale": "de"}, {"locale": ["Choose fr (French) or en (English)."]}),
                         ({"locale": 5}, {"locale": ["Not a valid string."]}),
                         ({}, {"locale": ["Missing data for required field."]}),
                         ({"locale": "en", "is_admin": True}, {"is_admin": ["Unknown field."]})):
        answer = client.patch("/api/v1/me", json=body, headers=bearer)
        assert answer.status_code == 422, body
        assert answer.get_json()["errors"]["json"] == errors
    assert _locale(user.id) == "fr"
    with transaction():
        assert session.get(User, user.id).is_admin is False


def test_the_api_sets_the_language(create_user, client, token_for) -> None:
    user = create_user("maire@lannion.fr")
    reader = {"Authorization": "Bearer " + token_for(user, Scope.READ)}
    assert client.patch("/api/v1/me", json={"locale": "en"}, headers=reader).status_code == 403
    writer = {"Authorization": "Bearer " + token_for(user)}
    answer = client.patch("/api/v1/me", json={"locale": "en"}, headers=writer)
    assert answer.status_code == 200
    assert answer.get_json()["locale"] == "en"
    assert client.get("/api/v1/me", headers=writer).get_json()["locale"] == "en"
    assert client.patch("/api/v1/me", json={"locale": "en"}).status_code == 401
    assert _locale(user.id) == "en"


def _sign_up(client: FlaskClient, email: str, headers: dict[str, str]):
    return client.post("/sign-up", headers=headers, data={
        "csrf_token": _csrf(client, "/sign-up", headers), "email": email,
        "display_name": "Jane Doe", "password": PASSWORD})


def test_a_sign_up_from_an_english_browser_gets_an_english_account_and_mail(
        client, smtp, wait) -> None:
    answer = _sign_up(client, "jane@example.org", ENGLISH)
    assert answer.status_code == 303
    assert "Welcome to Maillage" in client.get("/", headers=ENGLISH).get_data(as_text=True)
    me = client.get("/api/v1/me").get_json()
    assert me["locale"] == "en"
    wait()
    [mail] = smtp.to("jane@example.org")
    assert mail["Subject"] == "Confirm your address on Maillage"
    assert mail["Content-Language"] == "en"
    text = _text(mail)
    assert text.startswith("Hello Jane Doe,")
    [confirm] = [link for link in links(text) if "/account/confirm/" in link]
    assert f"Confirm my address: {confirm}" in text
    assert "This link works for 7 days." in text
    html = _html(mail)
    assert '<html lang="en">' in html
    assert f'<a href="{confirm}">Confirm my address</a>' in html
    assert "Bonjour" not in text + html
    # The link, followed from any browser, shows a page in the mail's language.
    other = client.application.test_client()
    assert '<html lang="en">' in other.get(local(confirm), headers=FRENCH).get_data(
        as_text=True)


def test_a_sign_up_from_a_french_browser_stays_french(client, smtp, wait) -> None:
    assert _sign_up(client, "jeanne@example.org", FRENCH).status_code == 303
    assert client.get("/api/v1/me").get_json()["locale"] == "fr"
    wait()
    [mail] = smtp.to("jeanne@example.org")
    assert mail["Subject"] == "Confirmer votre adresse sur Maillage"
    assert _text(mail).startswith("Bonjour Jane Doe,")
    assert "Ce lien sert 7 jours." in _text(mail)


def test_an_english_member_gets_an_english_reset_from_a_french_browser(
        create_user, client, smtp, wait, token_for) -> None:
    user = create_user("member@example.org", password=PASSWORD)
    token_for(user)  # revoked by the reset, and the notice says so
    with transaction():
        session.get(User, user.id).locale = "en"
    french_browser = client.application.test_client()
    asked = french_browser.post("/password/forgot", headers=FRENCH, data={
        "csrf_token": _csrf(french_browser, "/password/forgot", FRENCH),
        "email": "member@example.org"})
    assert asked.status_code == 200
    assert '<html lang="fr">' in asked.get_data(as_text=True), "the asker's page is theirs"
    wait()
    [mail] = smtp.to("member@example.org")
    smtp.messages.remove(mail)
    assert mail["Subject"] == "Choose a new Maillage password"
    assert mail["Content-Language"] == "en"
    text = _text(mail)
    [reset] = [link for link in links(text) if "/password/reset/" in link]
    assert text.startswith("Hello Member,")
    assert f"Choose a new password: {reset}" in text
    assert "This link works once, within 60 minutes." in text
    assert f'<a href="{reset}">Choose a new password</a>' in _html(mail)
    assert "mot de passe" not in text + _html(mail)

    form = french_browser.get(local(reset), headers=FRENCH).get_data(as_text=True)
    assert '<html lang="en">' in form
    done = french_browser.post(local(reset), headers=FRENCH, data={
        "csrf_token": _csrf(french_browser, "/password/forgot", FRENCH),
        "password": "another long password"})
    assert done.status_code == 303
    assert "Your password is changed" in french_browser.get(
        "/", headers=FRENCH).get_data(as_text=True)
    wait()
    [notice] = smtp.to("member@example.org")
    assert notice["Subject"] == "Your Maillage account changed"
    assert "The password of your Maillage account was just changed" in _text(notice)
    assert "your personal access token is revoked" in _text(notice)


def test_an_english_member_is_told_in_english_of_a_verification_by_a_french_member(
        create_user, sign_in, client, smtp, wait) -> None:
    create_user("maire@lannion.fr", town=LANNION, verified=True)
    newcomer = create_user("agent@example.org", town=LANNION, role=Role.AGENT)
    with transaction():
        session.get(User, newcomer.id).locale = "en"
    [membership] = newcomer.memberships
    verifier = session.scalar(sa.select(User).where(User.email == "maire@lannion.fr"))
    sign_in(verifier)
    done = client.post(f"/memberships/{membership.id}/verify", headers=FRENCH,
                       data={"csrf_token": _csrf(client, "/sign-in", FRENCH)})
    assert done.status_code == 303
    assert "est maintenant membre vérifié" in client.get(
        done.headers["Location"], headers=FRENCH).get_data(as_text=True)
    wait()
    [notice] = smtp.to("agent@example.org")
    assert notice["Subject"] == "Your membership of Lannion is verified"
    assert notice["Content-Language"] == "en"
    text = _text(notice)
    assert "\nSee it on Maillage: http://127.0.0.1:5000/towns/22113\n" in text
    assert "Because it is your account." in text
    assert "Choose what you receive" in text
    assert '<html lang="en">' in _html(notice)


@pytest.fixture
def published(create_user, wait):
    """Publish an initiative of Lannion in the theme Digital inclusion, dated in the week."""
    author = create_user("maire@lannion.fr", town=LANNION, verified=True)

    def publish(title: str) -> int:
        with transaction():
            initiative = publish_initiative(session.get(User, author.id), town=LANNION,
                                            title=title, summary="s", body="b",
                                            themes=["inclusion-numerique"])
        wait()
        with transaction():
            session.execute(sa.update(Event).values(created_at=IN_THE_WEEK))
            session.execute(sa.update(Notification).values(created_at=IN_THE_WEEK))
        return initiative.id

    return publish


def test_an_english_member_gets_an_english_digest(create_user, published, client, smtp,
                                                  token_for) -> None:
    english = create_user("reader@example.org")
    french = create_user("lecteur@example.org")
    for reader in (english, french):
        with transaction():
            session.add(Follow(user_id=reader.id, target="theme",
                               theme_id=get_theme("inclusion-numerique").id))
    with transaction():
        session.execute(sa.update(User).values(created_at=LONG_AGO))
    assert client.patch("/api/v1/me", json={"locale": "en"}, headers={
        "Authorization": "Bearer " + token_for(english)}).status_code == 200
    published("Atelier numérique")

    assert send_digests(Frequency.WEEKLY, now=RUN).sent == 2
    [digest] = smtp.to("reader@example.org")
    assert digest["Subject"] == "Maillage: what happened this week (1)"
    assert digest["Content-Language"] == "en"
    text = _text(digest)
    assert "Here is what happened since your last digest." in text
    assert "Digital inclusion\n=================" in text
    assert "- Maire published the initiative “Atelier numérique” (Lannion)" in text
    assert "Because you follow the theme Digital inclusion." in text
    assert re.search(r" Stop this topic: http://\S+/unsubscribe/\S+$", text, re.M)
    assert '<html lang="en">' in _html(digest)
    assert "Unsubscribe from everything" in _html(digest)
    [digest] = smtp.to("lecteur@example.org")
    assert digest["Subject"] == "Maillage : ce qui s'est passé cette semaine (1)"
    assert "Parce que vous suivez le thème Inclusion numérique." in _text(digest)


def test_an_english_subscriber_chooses_english_and_gets_an_english_digest(
        published, client, smtp, wait) -> None:
    form = client.get("/subscribe", headers=FRENCH).get_data(as_text=True)
    assert re.search(r'value="fr"\s*checked>', form), "the page's language at first"
    assert '<label for="locale-en" class="inline" lang="en">English</label>' in form
    answer = client.post("/subscribe", headers=FRENCH, data={
        "csrf_token": _csrf(client, "/subscribe", FRENCH), "email": "subscriber@example.org",
        "towns": LANNION, "frequency": "weekly", "locale": "en"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    wait()
    [confirmation] = smtp.to("subscriber@example.org")
    smtp.messages.remove(confirmation)
    assert confirmation["Subject"] == "Confirm your Maillage subscription"
    [confirm] = [link for link in links(_text(confirmation))
                 if "/subscriptions/confirm/" in link]
    page = client.get(local(confirm), headers=FRENCH).get_data(as_text=True)
    assert '<html lang="en">' in page, "the link opens in the mail's language"
    assert client.post(local(confirm), headers=FRENCH, data={
        "csrf_token": _csrf(client)}).status_code == 200
    with transaction():
        subscription = session.scalar(sa.select(Subscription))
        assert subscription.locale == "en"
        subscription.confirmed_at = LONG_AGO
    published("Atelier numérique")

    assert send_digests(Frequency.WEEKLY, now=RUN).sent == 1
    [digest] = smtp.to("subscriber@example.org")
    assert digest["Subject"] == "Maillage: what happened this week (1)"
    text = _text(digest)
    assert "- Atelier numérique (Lannion)" in text
    assert "Because you follow the town Lannion." in text
    assert "Unsubscribe from everything" in text


def test_the_api_subscription_takes_the_browsers_language_or_the_one_given(client,
                                                                            wait) -> None:
    assert client.post("/api/v1/subscriptions", headers=ENGLISH, json={
        "email": "one@example.org", "towns": [LANNION]}).status_code == 202
    assert client.post("/api/v1/subscriptions", headers=ENGLISH, json={
        "email": "two@example.org", "towns": [LANNION], "locale": "fr"}).status_code == 202
    assert client.post("/api/v1/subscriptions", json={
        "email": "three@example.org", "towns": [LANNION]}).status_code == 202
    wait()
    with transaction():
        assert dict(session.execute(sa.select(Subscription.email, Subscription.locale))
                    .all()) == {"one@example.org": "en", "two@example.org": "fr",
                                "three@example.org": "fr"}


def test_bad_subscription_languages_are_refused(client) -> None:
    answer = client.post("/api/v1/subscriptions", json={
        "email": "a@example.org", "towns": [LANNION], "locale": "de"})
    assert answer.status_code == 422
    assert answer.get_json()["errors"]["json"] == {
        "locale": ["Choose fr (French) or en (English)."]}
    page = client.post("/subscribe", data={
        "csrf_token": _csrf(client, "/subscribe"), "email": "a@example.org",
        "towns": LANNION, "locale": "klingon"})
    assert page.status_code == 422
    assert '<p class="error" id="locale-error">Choose fr (French) or en (English).</p>' \
        in page.get_data(as_text=True)
    with transaction():
        assert session.scalar(sa.select(sa.func.count()).select_from(Subscription)) == 0
