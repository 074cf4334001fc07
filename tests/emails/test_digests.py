"""Digests and subscriptions through a real SMTP server: a scripted week, no digest twice,
windows that follow each other across daylight-saving changes, double opt-in, preferences."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from email.message import Message

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from flask.cli import ScriptInfo

from maillage.accounts.models import User
from maillage.cli import main
from maillage.database import session, transaction, utcnow
from maillage.emails import runs
from maillage.emails.models import Digest, Frequency, Subscription
from maillage.emails.operations import forget_unconfirmed
from maillage.emails.periods import period_end, previous_end
from maillage.emails.queries import Recipient
from maillage.emails.runs import most_sent_twice, send_digests
from maillage.events import Event
from maillage.follows.models import Follow
from maillage.initiatives.operations import publish_initiative
from maillage.notifications.models import Notification
from maillage.themes.queries import get_theme
from tests.support.mail import links, local, tampered
from tests.support.users import bulk_followers

LANNION, LANDERNEAU = "22113", "29103"
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)

pytestmark = pytest.mark.smtp


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def publish(wait):
    """Publish an initiative as `author`, dated `at` (its event and its notifications)."""

    def post(author: User, title: str, themes: list[str], town: str, at: datetime) -> int:
        with transaction():
            initiative_id = publish_initiative(session.get(User, author.id), town=town,
                                               title=title, summary="s", body="b",
                                               themes=themes).id
        wait()
        with transaction():
            event_id = session.scalar(sa.select(Event.id).where(
                Event.kind == "initiative.published",
                Event.payload["initiative_id"].as_integer() == initiative_id))
            session.execute(sa.update(Event).where(Event.id == event_id).values(created_at=at))
            session.execute(sa.update(Notification).where(Notification.event_id == event_id)
                            .values(created_at=at))
        return initiative_id

    return post


@pytest.fixture
def subscriber(client, smtp, wait):
    """Subscribe an address through the API and confirm it through the mailed link."""

    def subscribe(email: str, **choices) -> int:
        answer = client.post("/api/v1/subscriptions", json={"email": email, **choices})
        assert answer.status_code == 202, answer.json
        wait()
        [confirmation] = smtp.to(email)
        smtp.messages.remove(confirmation)
        text = confirmation.get_body(("plain",)).get_content()
        [confirm] = [link for link in links(text) if "/subscriptions/confirm/" in link]
        assert client.get(local(confirm)).status_code == 200
        with transaction():
            subscription = session.scalar(sa.select(Subscription).where(
                Subscription.email == email))
            subscription.confirmed_at = LONG_AGO
            return subscription.id

    return subscribe


def follow(user: User, **target: str) -> None:
    with transaction():
        if "theme" in target:
            session.add(Follow(user_id=user.id, target="theme",
                               theme_id=get_theme(target["theme"]).id))
        else:
            session.add(Follow(user_id=user.id, target="town", town_insee=target["town"]))


def items(message) -> list[str]:
    """The items of a digest's text part, in order, each as its first line."""
    return [line[2:] for line in message.get_body(("plain",)).get_content().splitlines()
            if line.startswith("- ")]


def test_periods_follow_the_paris_clock_across_daylight_saving() -> None:
    # Spring forward on Sunday 29 March 2026: that week is 167 hours long.
    end = period_end(Frequency.WEEKLY, utc(2026, 3, 30, 5, 10))
    assert end == utc(2026, 3, 30, 5, 0)
    assert previous_end(Frequency.WEEKLY, end) == utc(2026, 3, 23, 6, 0)
    assert period_end(Frequency.WEEKLY, utc(2026, 3, 30, 4, 59)) == utc(2026, 3, 23, 6, 0)
    # Fall back on Sunday 25 October 2026: 169 hours.
    end = period_end(Frequency.WEEKLY, utc(2026, 10, 26, 6, 0))
    assert end == utc(2026, 10, 26, 6, 0)
    assert previous_end(Frequency.WEEKLY, end) == utc(2026, 10, 19, 5, 0)
    assert period_end(Frequency.WEEKLY, utc(2026, 10, 26, 5, 0)) == utc(2026, 10, 19, 5, 0)
    # Daily: the day of the change is 23 or 25 hours long.
    assert previous_end(Frequency.DAILY, utc(2026, 3, 29, 5, 0)) == utc(2026, 3, 28, 6, 0)
    assert previous_end(Frequency.DAILY, utc(2026, 10, 25, 6, 0)) == utc(2026, 10, 24, 5, 0)
    # The scheduler runs at 05:00 and 06:00 UTC: in summer the first is 07:00 in Paris, in
    # winter the second; the other finds its period already done.
    assert period_end(Frequency.DAILY, utc(2026, 7, 1, 5, 0)) == utc(2026, 7, 1, 5, 0)
    assert period_end(Frequency.DAILY, utc(2026, 12, 1, 5, 0)) == utc(2026, 11, 30, 6, 0)
    assert period_end(Frequency.DAILY, utc(2026, 12, 1, 6, 0)) == utc(2026, 12, 1, 6, 0)


def test_a_scripted_week_across_the_spring_change(create_user, publish, subscriber, smtp,
                                                  client, wait) -> None:
    author = create_user("maire@lannion.fr", town=LANNION, verified=True)
    other = create_user("agent@landerneau.fr", town=LANDERNEAU, verified=True)
    reader = create_user("lecteur@example.org")
    follow(reader, theme="sobriete-numerique")
    follow(reader, town=LANNION)
    with transaction():
        session.execute(sa.update(User).values(created_at=LONG_AGO))
    subscriber("abonne@example.org", themes=["inclusion-numerique"], towns=[LANDERNEAU],
               frequency="weekly")
    wait()
    smtp.messages.clear()

    publish(author, "Avant la semaine", ["inclusion-numerique"], LANNION, utc(2026, 3, 23, 5, 30))
    first = publish(author, "Atelier d'inclusion", ["inclusion-numerique"], LANNION,
                    utc(2026, 3, 24, 10, 0))
    publish(author, "Serveurs sobres", ["sobriete-numerique"], LANNION, utc(2026, 3, 26, 10, 0))
    publish(other, "Landerneau ouvre ses données", ["donnees-ouvertes"], LANDERNEAU,
            utc(2026, 3, 29, 12, 0))
    publish(author, "Permanence du lundi", ["inclusion-numerique"], LANNION,
            utc(2026, 3, 30, 4, 30))  # 06:30 in Paris, a minute before the run
    assert smtp.messages == []  # following is for the digest by default

    report = send_digests(Frequency.WEEKLY, now=utc(2026, 3, 30, 5, 10))
    assert report.period_end == utc(2026, 3, 30, 5, 0)
    assert (report.sent, report.failing, report.retrying) == (2, 0, 0)
    # Committed after the run began: in the next digests, whatever its date.
    publish(author, "La semaine suivante", ["inclusion-numerique"], LANNION,
            utc(2026, 3, 30, 5, 5))

    [digest] = smtp.to("abonne@example.org")
    assert items(digest) == ["Landerneau ouvre ses données (Landerneau)",
                             "Permanence du lundi (Lannion)", "Atelier d'inclusion (Lannion)"]
    text = digest.get_body(("plain",)).get_content()
    html = digest.get_body(("html",)).get_content()
    assert text.index("Données ouvertes") < text.index("Inclusion numérique")
    assert "Parce que vous suivez la commune Landerneau." in text
    assert "Parce que vous suivez le thème Inclusion numérique." in text
    assert "Serveurs sobres" not in text
    assert "semaine" not in " ".join(items(digest))
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"http://127.0.0.1:5000/initiatives/{first}" in links(html)
    assert client.get(f"/initiatives/{first}").status_code == 200

    [mine] = smtp.to("lecteur@example.org")
    assert items(mine) == ["Maire a publié l'initiative « Permanence du lundi » (Lannion)",
                           "Maire a publié l'initiative « Atelier d'inclusion » (Lannion)",
                           "Maire a publié l'initiative « Serveurs sobres » (Lannion)"]
    assert "http://127.0.0.1:5000/me/email" in mine.get_body(("plain",)).get_content()

    # Run again, or late within the same week: nothing twice.
    smtp.messages.clear()
    again = send_digests(Frequency.WEEKLY, now=utc(2026, 4, 2, 12, 0))
    # The two authors, who had nothing new, are done for the period too: their digest was
    # recorded empty, and their next window starts where it ended.
    assert (again.sent, again.already_sent) == (0, 4)
    assert smtp.messages == []

    # The reader goes daily on Tuesday: the next window starts where the weekly one ended.
    assert client.put("/api/v1/me/email-preferences", json={"frequency": "daily"}, headers={
        "Authorization": "Bearer " + _token(reader)}).status_code == 200
    publish(author, "Mardi", ["sobriete-numerique"], LANNION, utc(2026, 3, 31, 10, 0))
    daily = send_digests(Frequency.DAILY, now=utc(2026, 4, 1, 5, 0))
    assert daily.sent == 1
    [mine] = smtp.to("lecteur@example.org")
    assert items(mine) == ["Maire a publié l'initiative « La semaine suivante » (Lannion)",
                           "Maire a publié l'initiative « Mardi » (Lannion)"]

    # The subscriber's next week starts where the last ended: only what came after.
    smtp.messages.clear()
    send_digests(Frequency.WEEKLY, now=utc(2026, 4, 6, 6, 0))
    [digest] = smtp.to("abonne@example.org")
    assert items(digest) == ["La semaine suivante (Lannion)"]
    with transaction():
        windows = session.execute(sa.select(Digest.window_start, Digest.period_end)
                                  .where(Digest.subscription_id.is_not(None))
                                  .order_by(Digest.period_end)).all()
    assert windows == [(utc(2026, 3, 23, 6, 0), utc(2026, 3, 30, 5, 0)),
                       (utc(2026, 3, 30, 5, 0), utc(2026, 4, 6, 5, 0))]


def _token(user: User) -> str:
    from maillage.accounts import operations as accounts
    from maillage.accounts.models import Scope

    with transaction():
        return accounts.create_token(session.get(User, user.id), Scope.WRITE)[1]


def test_nothing_to_say_means_no_email(create_user, subscriber, smtp) -> None:
    subscriber("calme@example.org", themes=["cybersecurite"], frequency="daily")
    report = send_digests(Frequency.DAILY, now=utc(2026, 3, 30, 5, 10))
    assert (report.sent, report.empty) == (0, 1)
    assert smtp.messages == []


def test_the_command_shows_a_dry_run_then_sends(create_user, publish, subscriber, smtp,
                                                 app: Flask) -> None:
    author = create_user("maire@lannion.fr", town=LANNION, verified=True)
    subscriber("abonne@example.org", towns=[LANNION], frequency="daily")
    smtp.messages.clear()
    end = period_end(Frequency.DAILY, datetime.now(UTC))
    publish(author, "Atelier", ["inclusion-numerique"], LANNION, end - timedelta(hours=1))

    def run(*args: str):
        return CliRunner().invoke(main, ["digests", "send", *args],
                                  obj=ScriptInfo(create_app=lambda: app))

    result = run("--frequency", "daily", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "abonne@example.org\t1 item" in result.output
    assert "1 would get a digest" in result.output
    assert smtp.to("abonne@example.org") == []
    with transaction():
        assert session.scalar(sa.select(sa.func.count()).select_from(Digest)) == 0
    result = run("--frequency", "daily")
    assert "1 got a digest" in result.output
    assert len(smtp.to("abonne@example.org")) == 1
    assert "0 got a digest" in run("--frequency", "daily").output
    assert len(smtp.to("abonne@example.org")) == 1
    assert run("--frequency", "hourly").exit_code == 2


def test_double_opt_in(client, smtp, wait, app: Flask, csrf) -> None:
    answer = client.post("/api/v1/subscriptions", json={
        "email": "new@example.org", "themes": ["cybersecurite"], "towns": [LANNION],
        "frequency": "daily", "locale": "en"})
    assert answer.status_code == 202
    assert answer.json["status"] == "pending"
    wait()
    [confirmation] = smtp.messages
    assert confirmation["Subject"] == "Confirm your Maillage subscription"
    assert confirmation["List-Unsubscribe"] is None
    text = confirmation.get_body(("plain",)).get_content()
    assert "Cybersecurity" in text
    assert "Lannion" in text
    [confirm] = [link for link in links(text) if "/subscriptions/confirm/" in link]

    # Unconfirmed: no digest, whatever happened.
    report = send_digests(Frequency.DAILY, now=datetime.now(UTC) + timedelta(days=1))
    assert report.recipients == 0

    assert client.get(local(tampered(confirm))).status_code == 404
    # Following the link (as mail scanners do) shows a button and confirms nothing.
    assert client.get(local(confirm)).status_code == 200
    assert session.scalar(sa.select(Subscription.confirmed_at)) is None
    session.remove()
    assert client.post(local(confirm), data={"csrf_token": csrf()}).status_code == 200
    assert client.post(local(confirm), data={"csrf_token": csrf()}).status_code == 200
    with transaction():
        subscription = session.scalar(sa.select(Subscription))
        assert subscription.confirmed_at is not None
        assert [t.slug for t in subscription.themes] == ["cybersecurite"]
    report = send_digests(Frequency.DAILY, now=datetime.now(UTC) + timedelta(days=1))
    assert report.recipients == 1


def test_an_unconfirmed_address_expires(client, wait) -> None:
    assert client.post("/api/v1/subscriptions", json={
        "email": "late@example.org", "towns": [LANNION]}).status_code == 202
    wait()
    with transaction():
        assert forget_unconfirmed(datetime.now(UTC) + timedelta(days=1)) == 0
        assert forget_unconfirmed(datetime.now(UTC) + timedelta(days=3)) == 1


def test_bad_subscriptions_are_refused_field_by_field(client) -> None:
    answer = client.post("/api/v1/subscriptions", json={
        "email": "nope", "towns": ["123"], "frequency": "hourly"})
    assert answer.status_code == 422
    assert set(answer.json["errors"]["json"]) == {"email", "towns", "frequency"}
    answer = client.post("/api/v1/subscriptions", json={
        "email": "a@example.org", "themes": ["nope"], "towns": ["99999"]})
    assert answer.status_code == 422
    assert answer.json["errors"]["json"] == {"themes": ["Unknown theme: nope."],
                                             "towns": ["Unknown town: 99999."]}
    answer = client.post("/api/v1/subscriptions", json={"email": "a@example.org"})
    assert answer.status_code == 422
    with transaction():
        assert session.scalar(sa.select(sa.func.count()).select_from(Subscription)) == 0


def test_unsubscribing_from_a_theme_keeps_the_rest(publish, create_user, subscriber, smtp,
                                                   client) -> None:
    author = create_user("maire@lannion.fr", town=LANNION, verified=True)
    subscriber("abonne@example.org", themes=["inclusion-numerique"], towns=[LANNION])
    publish(author, "Atelier", ["inclusion-numerique"], LANNION, utc(2026, 3, 24, 10, 0))
    send_digests(Frequency.WEEKLY, now=utc(2026, 3, 30, 5, 10))
    [digest] = smtp.to("abonne@example.org")
    text = digest.get_body(("plain",)).get_content()
    [stop] = re.findall(r"Ne plus recevoir ce sujet : (\S+)", text)
    assert "le thème Inclusion numérique" in client.get(local(stop)).get_data(as_text=True)
    assert client.post(local(stop)).status_code == 200
    with transaction():
        subscription = session.scalar(sa.select(Subscription))
        assert subscription.themes == []
        assert [t.insee for t in subscription.towns] == [LANNION]
    [everything] = re.findall(r"<(\S+)>", digest["List-Unsubscribe"])
    assert client.post(local(everything)).status_code == 200
    assert client.post(local(everything)).status_code == 200
    with transaction():
        assert session.scalar(sa.select(sa.func.count()).select_from(Subscription)) == 0



def test_content_moderators_hid_leaves_the_subscribers_digest(publish, create_user, subscriber,
                                                              smtp, client, token_for) -> None:
    author = create_user("maire@lannion.fr", town=LANNION, verified=True)
    subscriber("abonne@example.org", towns=[LANNION])
    publish(author, "Atelier", ["inclusion-numerique"], LANNION, utc(2026, 3, 24, 10, 0))
    hidden = publish(author, "Annonce douteuse", ["inclusion-numerique"], LANNION,
                     utc(2026, 3, 25, 10, 0))
    moderator = {"Authorization": f"Bearer {token_for(create_user(moderator=True))}"}
    assert client.post(f"/api/v1/moderation/initiative/{hidden}/hide", json={},
                       headers=moderator).status_code == 200
    send_digests(Frequency.WEEKLY, now=utc(2026, 3, 30, 5, 10))
    [digest] = smtp.to("abonne@example.org")
    assert [item.split(" (")[0] for item in items(digest)] == ["Atelier"]


def test_preferences_api(create_user, client, token_for) -> None:
    assert client.get("/api/v1/me/email-preferences").status_code == 401
    user = create_user()
    headers = {"Authorization": f"Bearer {token_for(user)}"}
    answer = client.get("/api/v1/me/email-preferences", headers=headers)
    assert answer.json == {"frequency": "weekly", "unsubscribed": False, "modes": {
        "help_routed": "immediate", "answers": "immediate", "account": "immediate",
        "following": "digest"}}
    answer = client.put("/api/v1/me/email-preferences", headers=headers,
                        json={"frequency": "daily", "modes": {"answers": "off"}})
    assert answer.status_code == 200
    assert answer.json["frequency"] == "daily"
    assert answer.json["modes"]["answers"] == "off"
    assert answer.json["modes"]["following"] == "digest"
    for bad in ({"frequency": "hourly"}, {"modes": {"answers": "sometimes"}},
                {"modes": {"nope": "off"}}):
        answer = client.put("/api/v1/me/email-preferences", headers=headers, json=bad)
        assert answer.status_code == 422, bad
    assert client.get("/api/v1/me/email-preferences", headers=headers).json["modes"][
        "answers"] == "off"


def test_preferences_and_subscription_pages(create_user, client, sign_in, csrf, smtp,
                                            wait) -> None:
    page = client.get("/subscribe")
    assert page.status_code == 200
    assert "inclusion-numerique" in page.get_data(as_text=True)
    token = csrf()
    answer = client.post("/subscribe", data={"csrf_token": token, "email": "p@example.org",
                                             "towns": "22113 2A00x", "frequency": "weekly"})
    assert answer.status_code == 422
    assert "Not an INSEE code." in answer.get_data(as_text=True)
    answer = client.post("/subscribe", data={"csrf_token": token, "email": "p@example.org",
                                             "towns": "22113, 29103", "frequency": "weekly"})
    assert answer.status_code == 200
    assert "p@example.org" in answer.get_data(as_text=True)
    wait()
    [confirmation] = smtp.to("p@example.org")
    assert "/subscriptions/confirm/" in confirmation.get_body(("plain",)).get_content()

    user = create_user()
    sign_in(user)
    assert client.get("/me/email").status_code == 200
    token = csrf()
    form = {"csrf_token": token, "frequency": "daily", "help_routed": "immediate",
            "answers": "digest", "account": "off", "following": "digest"}
    assert client.post("/me/email", data=form).status_code == 303
    assert client.post("/me/email", data={**form, "account": "never"}).status_code == 422
    assert client.get("/api/v1/me/email-preferences").json["modes"]["account"] == "off"


def test_a_digest_that_cannot_be_built_loses_none_and_repeats_none(
        create_user, publish, subscriber, smtp, wait, monkeypatch) -> None:
    """The digests of a batch are claimed before they are built: when one cannot be built,
    the one already sent stays sent, and the others go to retried jobs."""
    author = create_user("maire@lannion.fr", town=LANNION, verified=True)
    for name in ("a", "b", "c"):
        subscriber(f"{name}@example.org", towns=[LANNION])
    publish(author, "Atelier", ["inclusion-numerique"], LANNION, utc(2026, 3, 24, 10, 0))
    smtp.messages.clear()
    build = runs.digest_message

    failed: list[str] = []

    def failing_for_b(letter: str, reader: Recipient, *rest: object) -> Message:
        # Once: the retried job of b may run in the embedded worker before the test mends
        # the template, while the run's other senders finish (SMTP_CONNECTIONS).
        if reader.email == "b@example.org" and not failed:
            failed.append(reader.email)
            raise RuntimeError("a template failed")
        return build(letter, reader, *rest)

    monkeypatch.setattr(runs, "digest_message", failing_for_b)
    with pytest.raises(RuntimeError):
        send_digests(Frequency.WEEKLY, now=utc(2026, 3, 30, 5, 10))
    # a went out before b failed; b and c went to retried jobs, which may have run already.
    assert "a@example.org" in [m["To"] for m in smtp.messages]
    monkeypatch.setattr(runs, "digest_message", build)  # the template mended
    wait()
    assert sorted(m["To"] for m in smtp.messages) == [
        "a@example.org", "b@example.org", "c@example.org"]
    assert send_digests(Frequency.WEEKLY, now=utc(2026, 3, 30, 6, 0)).sent == 0


def test_a_digest_refused_for_now_is_retried_and_one_refused_for_good_is_not(
        create_user, publish, subscriber, smtp, wait) -> None:
    author = create_user("maire@lannion.fr", town=LANNION, verified=True)
    subscriber("later@example.org", towns=[LANNION])
    subscriber("gone@example.org", towns=[LANNION])
    publish(author, "Atelier", ["inclusion-numerique"], LANNION, utc(2026, 3, 24, 10, 0))
    smtp.messages.clear()
    smtp.script = ["421 4.3.2 Busy, come back later"]
    smtp.refused["gone@example.org"] = "550 5.1.1 Unknown user"
    report = send_digests(Frequency.WEEKLY, now=utc(2026, 3, 30, 5, 10))
    assert (report.sent, report.retrying, report.failing) == (0, 1, 1)
    wait()
    [digest] = smtp.to("later@example.org")
    assert items(digest) == ["Atelier (Lannion)"]
    assert smtp.to("gone@example.org") == []
    with transaction():
        assert session.scalar(sa.select(sa.func.count()).select_from(Digest)
                              .where(Digest.sent_at.is_not(None))) == 1
    again = send_digests(Frequency.WEEKLY, now=utc(2026, 3, 30, 6, 0))
    # The author (an account) and later@, not the failing address.
    assert (again.sent, again.recipients) == (0, 2)


def test_a_digest_refused_for_now_for_two_days_is_given_up(create_user, publish, subscriber,
                                                            smtp, wait) -> None:
    author = create_user("maire@lannion.fr", town=LANNION, verified=True)
    subscriber("full@example.org", towns=[LANNION])
    publish(author, "Atelier", ["inclusion-numerique"], LANNION, utc(2026, 3, 24, 10, 0))
    smtp.messages.clear()
    smtp.refused["full@example.org"] = "452 4.2.2 Mailbox full"
    report = send_digests(Frequency.WEEKLY, now=utc(2026, 3, 30, 5, 10))
    assert report.retrying == 1
    wait()  # its job, retried, refused again each time
    with transaction():
        digest = session.scalar(sa.select(Digest).where(Digest.subscription_id.is_not(None)))
        digest_id = digest.id
        digest.leased_until = utc(2026, 3, 30, 6, 0)  # its lease over, for the sweeps
    tries = smtp.attempts.count("full@example.org")
    assert runs.resend_expired() == 0
    wait()
    assert smtp.attempts.count("full@example.org") > tries  # a sweep tries it again
    tries = smtp.attempts.count("full@example.org")
    with transaction():
        digest = session.get(Digest, digest_id)
        digest.leased_until = utc(2026, 3, 30, 6, 0)
        digest.created_at -= timedelta(days=2, minutes=1)
    assert runs.resend_expired() == 0
    wait()
    assert smtp.attempts.count("full@example.org") == tries  # two days old: not again
    with transaction():
        digest = session.get(Digest, digest_id)
        assert (digest.sent_at, digest.leased_until) == (None, None)
    assert smtp.to("full@example.org") == []


def titles(message) -> list[str]:
    """The initiatives a digest names, a subscriber's or an account holder's."""
    return [re.sub(r"^.*« (.*) ».*$|^(.*) \(.*\)$", lambda m: m[1] or m[2], item)
            for item in items(message)]


@pytest.fixture
def readers(create_user, subscriber, client, token_for):
    """A subscriber and an account holder of each frequency, all of Lannion's news."""
    emails = {}
    for frequency in ("daily", "weekly"):
        emails[f"s-{frequency}"] = f"abonne-{frequency}@example.org"
        subscriber(emails[f"s-{frequency}"], towns=[LANNION], frequency=frequency)
        user = create_user(f"lecteur-{frequency}@example.org")
        follow(user, town=LANNION)
        assert client.put("/api/v1/me/email-preferences", json={"frequency": frequency},
                          headers={"Authorization": "Bearer " + token_for(user)}
                          ).status_code == 200
        emails[f"u-{frequency}"] = user.email
    with transaction():
        session.execute(sa.update(User).values(created_at=LONG_AGO))
    return emails


def received(smtp, readers: dict[str, str]) -> dict[str, list[str]]:
    """What each reader's digests named so far, all digests together."""
    return {who: [title for message in smtp.to(email) for title in titles(message)]
            for who, email in readers.items()}


def test_an_item_committed_at_the_boundary_falls_in_one_digest_of_each_frequency(
        create_user, publish, readers, smtp, monkeypatch) -> None:
    """Dated a moment before 07:00 and committed while the run goes: not in this digest (its
    run did not see it commit), in the next one, once. Cut by timestamps, it fell in none."""
    author = create_user("maire@lannion.fr", town=LANNION, verified=True)
    smtp.messages.clear()
    publish(author, "Avant", ["inclusion-numerique"], LANNION, utc(2026, 3, 22, 10, 0))
    boundary = utc(2026, 3, 23, 6, 0)  # Monday 07:00 in Paris: daily and weekly
    late = ["Au bord du jour", "Au bord de la semaine"]
    send = runs._send
    sending = {"first": True}

    def committing_meanwhile(*args, **kwargs):
        if sending["first"] and late:
            sending["first"] = False
            publish(author, late.pop(0), ["inclusion-numerique"], LANNION,
                    boundary - timedelta(microseconds=1))
        return send(*args, **kwargs)

    monkeypatch.setattr(runs, "_send", committing_meanwhile)
    for frequency, now in ((Frequency.DAILY, utc(2026, 3, 23, 6, 10)),
                           (Frequency.WEEKLY, utc(2026, 3, 23, 6, 10)),
                           (Frequency.DAILY, utc(2026, 3, 24, 6, 10)),
                           (Frequency.WEEKLY, utc(2026, 3, 30, 5, 10))):
        sending["first"] = True
        assert send_digests(frequency, now=now).sent == 2
    got = received(smtp, readers)
    everything = ["Au bord de la semaine", "Au bord du jour", "Avant"]
    assert {who: sorted(named) for who, named in got.items()} == dict.fromkeys(readers,
                                                                               everything)
    # The daily readers' first digest went out as "Au bord du jour" was committing.
    assert [titles(m) for m in smtp.to(readers["s-daily"])] == [
        ["Avant"], ["Au bord de la semaine", "Au bord du jour"]]
    assert [titles(m) for m in smtp.to(readers["s-weekly"])] == [
        ["Au bord du jour", "Avant"], ["Au bord de la semaine"]]


@pytest.mark.postgres_only
def test_an_item_whose_transaction_took_its_id_first_and_committed_last_is_not_skipped(
        readers, smtp, app: Flask) -> None:
    """Two real transactions: the first takes its event's id, the second takes the next id and
    commits; a run goes; then the first commits. An id watermark would skip the first."""
    smtp.messages.clear()
    engine = app.extensions["maillage.engine"]

    def event(connection: sa.Connection, title: str) -> int:
        return connection.execute(sa.insert(Event).values(
            kind="initiative.published", created_at=utc(2026, 3, 22, 10, 0),
            processed_at=utc(2026, 3, 22, 10, 0),
            payload={"initiative_id": 1, "town_insee": LANNION, "themes": [],
                     "title": title}).returning(Event.id)).scalar_one()

    subscribers = {who: email for who, email in readers.items() if who.startswith("s-")}
    with engine.connect() as first, engine.connect() as second:
        first.begin()
        earlier = event(first, "Pris d'abord")
        with second.begin():
            assert event(second, "Pris ensuite") > earlier
        for frequency in Frequency:
            send_digests(frequency, now=utc(2026, 3, 23, 6, 10))
        assert list(received(smtp, subscribers).values()) == [["Pris ensuite"]] * 2
        first.commit()
    send_digests(Frequency.DAILY, now=utc(2026, 3, 24, 6, 10))
    send_digests(Frequency.WEEKLY, now=utc(2026, 3, 30, 5, 10))
    assert list(received(smtp, subscribers).values()) == [["Pris ensuite", "Pris d'abord"]] * 2


def test_the_sweep_sends_what_a_dead_run_claimed_once_its_lease_ran_out(
        create_user, publish, subscriber, smtp, app: Flask, monkeypatch) -> None:
    from workers.mail import sweep_digests

    author = create_user("maire@lannion.fr", town=LANNION, verified=True)
    subscriber("abonne@example.org", towns=[LANNION])
    publish(author, "Atelier", ["inclusion-numerique"], LANNION, utc(2026, 3, 24, 10, 0))
    smtp.messages.clear()
    app.config["DIGEST_LEASE"] = 0.5
    with monkeypatch.context() as patched:
        patched.setattr(runs, "_send", lambda *args, **kwargs: None)  # dies once claimed
        assert send_digests(Frequency.WEEKLY, now=utc(2026, 3, 30, 5, 10)).sent == 0
    assert sweep_digests() == 0  # leased still: its run may be alive
    time.sleep(0.6)
    assert sweep_digests() == 1
    [digest] = smtp.to("abonne@example.org")
    assert items(digest) == ["Atelier (Lannion)"]
    with transaction():
        [digest_id] = session.scalars(sa.select(Digest.id).where(Digest.items > 0))
    assert digest["Message-ID"] == f"<digest.{digest_id}@maillage.localhost>"
    time.sleep(0.6)
    assert sweep_digests() == 0
    assert send_digests(Frequency.WEEKLY, now=utc(2026, 3, 30, 6, 0)).sent == 0
    assert len(smtp.messages) == 1


def test_readers_of_the_same_items_get_the_same_bodies_each_with_their_own_links(
        create_user, publish, subscriber, smtp) -> None:
    """A digest's bodies are rendered once for all the readers of its items: each reader's
    unsubscribe and stop links, signed with its own secret, are put in afterwards."""
    from maillage.mail.tokens import load

    author = create_user("maire@lannion.fr", town=LANNION, verified=True)
    for name in ("a", "b"):
        subscriber(f"{name}@example.org", themes=["inclusion-numerique"], towns=[LANNION])
    publish(author, "Atelier", ["inclusion-numerique"], LANNION, utc(2026, 3, 24, 10, 0))
    publish(author, "Serveurs", ["sobriete-numerique"], LANNION, utc(2026, 3, 25, 10, 0))
    smtp.messages.clear()
    assert send_digests(Frequency.WEEKLY, now=utc(2026, 3, 30, 5, 10)).sent == 2
    with transaction():
        secrets = dict(session.execute(sa.select(Subscription.email, Subscription.secret)).all())
    bodies = {}
    for email in ("a@example.org", "b@example.org"):
        [digest] = smtp.to(email)
        text = digest.get_body(("plain",)).get_content()
        html = digest.get_body(("html",)).get_content()
        own = [link for link in links(text) if "/unsubscribe/" in link]
        # The one-click link, a stop link for the town and one for the theme; the same in
        # the HTML, in the same places.
        assert len(set(own)) == 3
        assert [link for link in links(html) if "/unsubscribe/" in link] == own
        assert digest["List-Unsubscribe"].strip() == f"<{own[-1]}>"
        parts = [load("unsubscribe", link.rpartition("/")[2]) for link in own]
        assert {tuple(p[:2]) for p in parts} == {("s", secrets[email])}
        assert sorted(p[2] for p in parts) == ["all", "theme", "town"]
        for n, link in enumerate(own):
            text, html = text.replace(link, f"<{n}>"), html.replace(link, f"<{n}>")
        bodies[email] = (text, html)
    assert bodies["a@example.org"] == bodies["b@example.org"]
    [a], [b] = smtp.to("a@example.org"), smtp.to("b@example.org")
    assert a["Message-ID"] != b["Message-ID"]


def test_no_more_digests_are_accepted_and_unmarked_than_a_crash_may_send_twice(
        create_user, smtp, wait, app: Flask, monkeypatch) -> None:
    """However far behind the marks fall, the connections hand the server more digests only
    while few wait for their mark: a run that dies sends again `most_sent_twice` at most."""
    from maillage.emails import operations

    bulk_followers(120, "sobriete-numerique")
    with transaction():
        session.execute(sa.update(User).values(email_confirmed_at=utcnow()))
    author = create_user("maire@lannion.fr", town=LANNION, verified=True)
    with transaction():
        publish_initiative(session.get(User, author.id), town=LANNION, title="Wifi sobre",
                           summary="s", body="b", themes=["sobriete-numerique"])
    wait()
    smtp.messages.clear()
    app.config["SMTP_CONNECTIONS"] = 3
    mark, marked, unmarked = operations.mark_digests_sent, [0], []

    def slowly(digest_ids: list[int]) -> None:
        unmarked.append(len(smtp.messages) - marked[0])  # accepted by the server, unmarked
        time.sleep(0.02)  # a database far behind
        mark(digest_ids)
        marked[0] += len(digest_ids)

    monkeypatch.setattr(operations, "mark_digests_sent", slowly)
    assert send_digests(Frequency.WEEKLY, now=utcnow()).sent == 120
    assert marked[0] == len(smtp.messages) == 120
    assert 0 < max(unmarked) <= most_sent_twice(3)
