"""Help followed through: claims and their release, expiry and hand-over; the escalation
ladder, its skips and its deadline; the history; the reminders, each once, and their links.

Time moves by the `now` the scheduler's job is given, as the scheduler would run it later.
The towns are real communes: Lannion and Perros-Guirec (Côtes-d'Armor, 22), Morlaix
(Finistère, 29) and Vitré (Ille-et-Vilaine, 35) in Brittany, Granville (Manche, 50) in
Normandy.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from maillage.accounts.models import Role, User
from maillage.database import session, transaction, utcnow
from maillage.help.models import HelpClaim, HelpReminder, HelpRequest, Status
from maillage.notifications.models import Notification
from tests.support.api import bearer
from tests.support.listeners import Listener
from tests.support.mail import links, local, tampered
from workers.escalation import follow_through_help

LANNION, PERROS, MORLAIX, VITRE, GRANVILLE = "22113", "22168", "29151", "35360", "50218"
CYBER, SOBRIETY, RESILIENCE = "cybersecurite", "sobriete-numerique", "resilience"
PASSWORD = "a referent's password"
PARIS = ZoneInfo("Europe/Paris")
TITLE = "Sécuriser les boîtes mail de la mairie"


@pytest.fixture
def people(create_user, token_for):
    """An asker in Lannion (who reads English), referents around it, and their tokens."""
    def member(name: str, town: str, *expertise: str) -> User:
        return create_user(f"{name}@example.org", town=town, verified=True, password=PASSWORD,
                           role=Role.REFERENT if expertise else Role.AGENT, expertise=expertise)

    users = {
        "asker": member("asker", LANNION),
        "perros": member("perros", PERROS, CYBER, SOBRIETY),
        "morlaix": member("morlaix", MORLAIX, CYBER, RESILIENCE),
        "vitre": member("vitre", VITRE, CYBER),
        "granville": member("granville", GRANVILLE, CYBER, SOBRIETY, RESILIENCE),
        "peer": member("peer", MORLAIX),
    }
    with transaction():
        session.get(User, users["asker"].id).locale = "en"
    return users, {name: token_for(user) for name, user in users.items()}


def ask(client, token: str, **changes) -> int:
    response = client.post("/api/v1/help-requests", headers=bearer(token), json={
        "town": LANNION, "title": TITLE,
        "body": "Nos messageries reçoivent du hameçonnage.", "themes": [CYBER]} | changes)
    assert response.status_code == 201, response.json
    return response.json["id"]


def post(client, token: str, request_id: int, action: str, **json) -> dict:
    response = client.post(f"/api/v1/help-requests/{request_id}/{action}",
                           headers=bearer(token), **({"json": json} if json else {}))
    return {**(response.json or {}), "http": response.status_code}


def detail(client, request_id: int) -> dict:
    return client.get(f"/api/v1/help-requests/{request_id}").json


def history(client, request_id: int) -> list[tuple]:
    """The request's history as the API gives it: (kind, circle, referents, who)."""
    return [(step["kind"], step["circle"], step["referents"],
             step["user"]["display_name"] if step["user"] else None)
            for step in detail(client, request_id)["history"]]


def notified(kind: str) -> dict[str, str]:
    """Who got the notifications of `kind` (the local part of their address), and why."""
    rows = session.execute(sa.select(User.email, Notification.reason)
                           .join(User, User.id == Notification.user_id)
                           .where(Notification.kind == kind)).all()
    return {email.split("@")[0]: reason for email, reason in rows}


def request_row(request_id: int) -> HelpRequest:
    session.remove()
    return session.get(HelpRequest, request_id)


def claimed_at(request_id: int) -> datetime:
    return session.get(HelpClaim, request_id).claimed_at


def test_a_referent_claims_and_everyone_sees_who_and_since_when(client, people, wait) -> None:
    _users, tokens = people
    request_id = ask(client, tokens["asker"])
    claimed = post(client, tokens["perros"], request_id, "claim")
    assert claimed["http"] == 200
    assert claimed["claim"]["user"]["display_name"] == "Perros"
    assert claimed["claim"]["claimed_at"]
    wait()
    assert notified("help.claimed") == {"asker": "asker"}
    # Signed out, the page says who and since when.
    page = unescape(client.get(f"/help-requests/{request_id}").get_data(as_text=True))
    assert "Perros s'en occupe" in page
    assert "Envoyée aux référents du département (1)" in page
    english = client.get(f"/help-requests/{request_id}",
                         headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Sent to the referents of the department (1)" in english
    assert "Perros is on it" in english
    assert history(client, request_id) == [("routed", "department", 1, "Asker"),
                                           ("claimed", None, None, "Perros")]
    # Claimed, it climbs no further, however long it waits.
    asked_at = request_row(request_id).created_at
    assert follow_through_help(now=asked_at + timedelta(days=60)).escalated == []
    assert request_row(request_id).circle.value == "department"


def test_claims_refused_change_nothing(client, people, wait) -> None:
    _users, tokens = people
    request_id = ask(client, tokens["asker"])
    # Not a referent of the theme; the asker's own request.
    for name in ("peer", "asker"):
        refused = post(client, tokens[name], request_id, "claim")
        assert refused["http"] == 403, refused
        assert refused["message"]
    assert detail(client, request_id)["claim"] is None
    assert post(client, tokens["perros"], request_id, "release")["http"] == 409
    assert post(client, tokens["perros"], request_id, "claim")["http"] == 200
    twice = post(client, tokens["perros"], request_id, "claim")
    assert (twice["http"], twice["message"]) == (409, "You have already taken this request on.")
    taken = post(client, tokens["morlaix"], request_id, "claim")
    assert (taken["http"], taken["message"]) == (
        409, "Someone else has already taken this request on.")
    stranger = post(client, tokens["morlaix"], request_id, "release")
    assert stranger["http"] == 403
    assert "Only the referent who took this request on" in stranger["message"]
    assert client.post(f"/api/v1/help-requests/{request_id}/claim").status_code == 401
    assert client.post("/api/v1/help-requests/999999/claim",
                       headers=bearer(tokens["perros"])).status_code == 404
    assert detail(client, request_id)["claim"]["user"]["display_name"] == "Perros"
    assert [kind for kind, *_rest in history(client, request_id)] == ["routed", "claimed"]
    # A closed request takes no claim.
    other = ask(client, tokens["asker"])
    assert post(client, tokens["asker"], other, "close")["http"] == 200
    assert post(client, tokens["vitre"], other, "claim")["http"] == 409
    assert detail(client, other)["claim"] is None


def test_releasing_is_one_click_and_routes_the_request_again(client, people, sign_in, csrf,
                                                             wait, app) -> None:
    users, tokens = people
    request_id = ask(client, tokens["asker"])
    asked_at = request_row(request_id).created_at
    delay = app.config["HELP_ESCALATION_DELAY"]
    assert follow_through_help(now=asked_at + delay).escalated == [request_id]
    assert post(client, tokens["morlaix"], request_id, "claim")["http"] == 200
    wait()

    sign_in(users["morlaix"])
    page = unescape(client.get(f"/help-requests/{request_id}").get_data(as_text=True))
    assert "Je ne m'en occupe plus" in page
    released = client.post(f"/help-requests/{request_id}/release",
                           data={"csrf_token": csrf()})
    assert released.status_code == 303
    wait()
    assert detail(client, request_id)["claim"] is None
    # The referents of both circles it reached, and the asker; not the one who let it go.
    assert notified("help.released") == {"perros": "referent", "vitre": "referent",
                                         "asker": "asker"}
    assert [step[:3] for step in history(client, request_id)][-2:] == [
        ("released", None, None), ("rerouted", "region", 3)]
    # The ladder starts its delay again from the release.
    released_at = request_row(request_id).routed_at
    assert follow_through_help(now=released_at + delay - timedelta(seconds=1)).escalated == []
    assert follow_through_help(now=released_at + delay).escalated == [request_id]


@pytest.mark.smtp
def test_an_unanswered_claim_expires_the_request_goes_again_and_the_referent_is_told(
        client, people, wait, app, smtp) -> None:
    _users, tokens = people
    request_id = ask(client, tokens["asker"])
    assert post(client, tokens["perros"], request_id, "claim")["http"] == 200
    wait()
    since, delay = claimed_at(request_id), app.config["HELP_CLAIM_DELAY"]
    assert follow_through_help(now=since + delay - timedelta(seconds=1)).expired == []
    assert follow_through_help(now=since + delay).expired == [request_id]
    assert follow_through_help(now=since + delay + timedelta(hours=1)).expired == []
    wait()
    assert detail(client, request_id)["claim"] is None
    assert notified("help.claim_expired") == {"perros": "claimer", "asker": "asker"}
    # Mailed at once, as their preferences have it by default.
    [told] = [m for m in smtp.to("perros@example.org") if "de nouveau libre" in m["Subject"]]
    assert "Sécuriser les boîtes mail" in told.get_body(("plain",)).get_content()
    assert [kind for kind, *_rest in history(client, request_id)][-2:] == ["expired",
                                                                            "rerouted"]
    # Free again, the ladder goes on.
    expired_at = request_row(request_id).routed_at
    assert expired_at == since + delay
    assert follow_through_help(
        now=expired_at + app.config["HELP_ESCALATION_DELAY"]).escalated == [request_id]


def test_a_claimer_who_answered_keeps_the_claim(client, people, wait, app) -> None:
    _users, tokens = people
    request_id = ask(client, tokens["asker"])
    assert post(client, tokens["perros"], request_id, "claim")["http"] == 200
    assert post(client, tokens["perros"], request_id, "answers",
                body="Activez DMARC.")["http"] == 201
    since = claimed_at(request_id)
    assert follow_through_help(now=since + 10 * app.config["HELP_CLAIM_DELAY"]).expired == []
    assert detail(client, request_id)["claim"]["user"]["display_name"] == "Perros"


def test_the_ladder_climbs_department_region_network_then_stops(client, people, app) -> None:
    _users, tokens = people
    request_id = ask(client, tokens["asker"])
    delay = app.config["HELP_ESCALATION_DELAY"]
    asked_at = request_row(request_id).created_at
    assert follow_through_help(now=asked_at + delay).escalated == [request_id]
    assert follow_through_help(now=asked_at + 2 * delay - timedelta(seconds=1)).escalated == []
    assert follow_through_help(now=asked_at + 2 * delay).escalated == [request_id]
    assert follow_through_help(now=asked_at + 10 * delay).escalated == []
    assert history(client, request_id) == [("routed", "department", 1, "Asker"),
                                           ("escalated", "region", 2, None),
                                           ("escalated", "network", 1, None)]


def test_a_circle_without_referents_of_the_theme_is_skipped(client, people, app, wait) -> None:
    _users, tokens = people
    # Resilience: nobody in the department, so the region at once.
    first = ask(client, tokens["asker"], themes=[RESILIENCE])
    assert history(client, first) == [("skipped", "department", 0, None),
                                      ("routed", "region", 1, "Asker")]
    # Sobriety: Perros-Guirec in the department, nobody in the region, Granville beyond.
    second = ask(client, tokens["asker"], themes=[SOBRIETY])
    asked_at = request_row(second).created_at
    assert follow_through_help(
        now=asked_at + app.config["HELP_ESCALATION_DELAY"]).escalated == [first, second]
    assert history(client, second)[1:] == [("skipped", "region", 0, None),
                                           ("escalated", "network", 1, None)]
    wait()
    assert notified("help.escalated") == {"granville": "referent"}


def test_a_near_deadline_shortens_each_step_so_the_last_comes_before_it(client, people,
                                                                        app) -> None:
    _users, tokens = people
    today = datetime.now(PARIS).date()
    due = today + timedelta(days=4)
    request_id = ask(client, tokens["asker"], deadline=due.isoformat())
    deadline = datetime.combine(due, datetime.min.time(), tzinfo=PARIS)
    asked_at = request_row(request_id).routed_at
    # Two steps ahead (region, network): the time left in three equal shares, each shorter
    # than the 72 hours of the delay.
    share = (deadline - asked_at) / 3
    assert share < app.config["HELP_ESCALATION_DELAY"]
    first = asked_at + share
    assert follow_through_help(now=first - timedelta(seconds=1)).escalated == []
    assert follow_through_help(now=first).escalated == [request_id]
    # One step ahead now (the network): what is left in two shares, the same length.
    second = first + (deadline - first) / 2
    assert abs(second - (asked_at + 2 * share)) < timedelta(milliseconds=1)
    assert follow_through_help(now=second - timedelta(seconds=1)).escalated == []
    assert follow_through_help(now=second).escalated == [request_id]
    assert request_row(request_id).circle.value == "network"
    assert second < deadline


def test_with_a_far_deadline_the_delay_holds(client, people, app) -> None:
    _users, tokens = people
    far = datetime.now(PARIS).date() + timedelta(days=90)
    request_id = ask(client, tokens["asker"], deadline=far.isoformat())
    asked_at = request_row(request_id).created_at
    delay = app.config["HELP_ESCALATION_DELAY"]
    assert follow_through_help(now=asked_at + delay - timedelta(seconds=1)).escalated == []
    assert follow_through_help(now=asked_at + delay).escalated == [request_id]


def reminders(smtp, address: str) -> list:
    return [message for message in smtp.to(address)
            if "/help-reminders/" in message.get_body(("plain",)).get_content()]


def reminder_link(message) -> str:
    [link] = {url for url in links(message.get_body(("plain",)).get_content())
              if "/help-reminders/" in url}
    return local(link)


@pytest.mark.smtp
def test_the_asker_is_asked_once_whether_the_answers_solved_it_and_says_no(
        client, people, wait, app, smtp) -> None:
    _users, tokens = people
    request_id = ask(client, tokens["asker"])
    assert post(client, tokens["perros"], request_id, "answers",
                body="Activez DMARC.")["http"] == 201
    wait()
    answered_at = detail_answer_time(client, request_id)
    after = app.config["HELP_REMINDER"]
    assert follow_through_help(now=answered_at + after - timedelta(seconds=1)).reminded == []
    assert len(follow_through_help(now=answered_at + after).reminded) == 1
    assert follow_through_help(now=answered_at + 2 * after).reminded == []
    wait()
    # Once, and in the asker's language.
    [message] = reminders(smtp, "asker@example.org")
    assert message["Subject"] == f"Is your request “{TITLE}” solved?"
    assert message["Content-Language"] == "en"
    link = reminder_link(message)

    # Signed out: the link asks first (link checkers follow links), then acts.
    asked = client.get(link)
    assert asked.status_code == 200
    assert client.get(tampered(link)).status_code == 404
    assert client.post(link, data={"action": "nonsense"}).status_code == 422
    assert request_row(request_id).status is Status.ANSWERED
    assert client.post(link, data={"action": "not-solved"}).status_code == 200
    assert request_row(request_id).status is Status.OPEN
    assert client.post(link, data={"action": "not-solved"}).status_code == 409
    wait()
    assert notified("help.not_solved") == {"perros": "referent"}
    assert [kind for kind, *_rest in history(client, request_id)][-2:] == ["not-solved",
                                                                            "rerouted"]
    # Waiting again, it climbs on from now.
    again_at = request_row(request_id).routed_at
    assert follow_through_help(
        now=again_at + app.config["HELP_ESCALATION_DELAY"]).escalated == [request_id]


def detail_answer_time(client, request_id: int) -> datetime:
    [answer] = detail(client, request_id)["answers"]
    return datetime.fromisoformat(answer["created_at"])


@pytest.mark.smtp
def test_a_claimer_is_reminded_once_halfway_to_the_expiry(client, people, wait, app,
                                                          smtp) -> None:
    _users, tokens = people
    request_id = ask(client, tokens["asker"])
    assert post(client, tokens["perros"], request_id, "claim")["http"] == 200
    since, half = claimed_at(request_id), app.config["HELP_CLAIM_DELAY"] / 2
    assert follow_through_help(now=since + half - timedelta(seconds=1)).reminded == []
    assert len(follow_through_help(now=since + half).reminded) == 1
    assert follow_through_help(now=since + half + timedelta(hours=1)).reminded == []
    wait()
    [message] = reminders(smtp, "perros@example.org")
    assert message["Subject"] == f"Vous vous occupez de « {TITLE} »"
    assert f"/help-requests/{request_id}" in message.get_body(("plain",)).get_content()


@pytest.mark.smtp
def test_the_asker_is_reminded_before_the_deadline_and_the_link_stops_every_reminder(
        client, people, wait, app, smtp) -> None:
    _users, tokens = people
    due = datetime.now(PARIS).date() + timedelta(days=5)
    request_id = ask(client, tokens["asker"], deadline=due.isoformat())
    two_days_before = datetime.combine(due - timedelta(days=2), datetime.min.time(),
                                       tzinfo=PARIS)
    # The ladder's steps are due too, on the way; only the reminders are looked at here.
    assert follow_through_help(now=two_days_before - timedelta(seconds=1)).reminded == []
    assert len(follow_through_help(now=two_days_before).reminded) == 1
    assert follow_through_help(now=two_days_before + timedelta(hours=12)).reminded == []
    wait()
    [message] = reminders(smtp, "asker@example.org")
    assert message["Subject"] == f"Your request “{TITLE}” is nearly due"

    link = reminder_link(message)
    assert client.post(link, data={"action": "stop"}).status_code == 200
    with transaction():
        kinds = session.execute(sa.select(HelpReminder.kind, HelpReminder.sent_at)).all()
    assert sorted((kind.value, sent is not None) for kind, sent in kinds) == [
        ("claim", False), ("deadline", True), ("solved", False)]
    # An answer comes and goes unaccepted: the asker asked for no more reminders.
    assert post(client, tokens["perros"], request_id, "answers",
                body="Activez DMARC.")["http"] == 201
    answered_at = detail_answer_time(client, request_id)
    assert follow_through_help(now=answered_at + timedelta(days=30)).reminded == []


def test_deleting_a_referent_hands_their_claims_over_at_once(client, people, wait,
                                                             app) -> None:
    _users, tokens = people
    request_id = ask(client, tokens["asker"])
    asked_at = request_row(request_id).created_at
    assert follow_through_help(
        now=asked_at + app.config["HELP_ESCALATION_DELAY"]).escalated == [request_id]
    assert post(client, tokens["morlaix"], request_id, "claim")["http"] == 200
    wait()
    assert client.delete("/api/v1/me", json={"password": PASSWORD},
                         headers=bearer(tokens["morlaix"])).status_code == 204
    wait()
    assert detail(client, request_id)["claim"] is None
    assert notified("help.handed_over") == {"perros": "referent", "vitre": "referent",
                                            "asker": "asker"}
    assert [step[:3] for step in history(client, request_id)][-3:] == [
        ("claimed", None, None), ("handed-over", None, None), ("rerouted", "region", 2)]


def test_withdrawing_the_theme_hands_the_claim_over_and_another_theme_keeps_it(
        client, people, wait) -> None:
    _users, tokens = people
    kept = ask(client, tokens["asker"], themes=[CYBER, SOBRIETY])
    handed = ask(client, tokens["asker"])
    for request_id in (kept, handed):
        assert post(client, tokens["perros"], request_id, "claim")["http"] == 200
    assert client.put("/api/v1/me/expertise", json={"themes": [SOBRIETY]},
                      headers=bearer(tokens["perros"])).status_code == 200
    wait()
    assert detail(client, kept)["claim"]["user"]["display_name"] == "Perros"
    assert detail(client, handed)["claim"] is None
    assert history(client, handed)[-2][0] == "handed-over"


def test_a_claim_reaches_another_listener_live(client, people, wait, app) -> None:
    _users, tokens = people
    request_id = ask(client, tokens["asker"])
    wait()
    watcher = Listener(app, flask_test_client=app.test_client())
    assert watcher.ask("subscribe", {"rooms": [f"help-request:{request_id}"]}) == {
        "rooms": [f"help-request:{request_id}"]}
    watcher.received()
    assert post(client, tokens["perros"], request_id, "claim")["http"] == 200
    wait()
    activity = [payload for name, payload in watcher.received() if name == "activity"]
    assert [(a["kind"], a["help_request_id"]) for a in activity] == [
        ("help.claimed", request_id)]
    watcher.client.disconnect()


def test_the_figures_give_the_time_to_a_claim_per_theme(client, people) -> None:
    _users, tokens = people
    request_id = ask(client, tokens["asker"])
    with transaction():
        asked = session.get(HelpRequest, request_id)
        asked.created_at -= timedelta(hours=6)
    assert post(client, tokens["perros"], request_id, "claim")["http"] == 200
    [row] = [row for row in client.get("/api/v1/help-requests/figures").json["themes"]
             if row["theme"] == CYBER]
    assert row["mean_hours_to_claim"] == pytest.approx(6, abs=0.01)
    assert row["mean_hours_to_first_answer"] is None


def test_a_hidden_request_has_no_room(client, people, app) -> None:
    _users, tokens = people
    request_id = ask(client, tokens["asker"])
    with transaction():
        session.get(HelpRequest, request_id).hidden_at = utcnow()
    watcher = Listener(app)
    assert watcher.ask("subscribe", {"rooms": [f"help-request:{request_id}"]}) == {"rooms": []}
    watcher.client.disconnect()


@pytest.mark.parametrize(("name", "default", "unit"), [
    ("HELP_CLAIM_DELAY", timedelta(days=3), timedelta(hours=1)),
    ("HELP_REMINDER", timedelta(days=5), timedelta(days=1)),
])
def test_the_claim_delay_is_in_hours_and_the_reminder_in_days(name, default, unit) -> None:
    from maillage import settings

    assert settings.load({})[name] == default
    assert settings.load({name: "1.5"})[name] == 1.5 * unit
    for wrong in ("soon", "0", "-2"):
        with pytest.raises(settings.SettingsError, match=name):
            settings.load({name: wrong})


def test_the_referents_lists_say_who_is_on_a_request(client, people, sign_in) -> None:
    users, tokens = people
    request_id = ask(client, tokens["asker"])
    assert post(client, tokens["perros"], request_id, "claim")["http"] == 200
    listed = unescape(client.get("/help-requests").get_data(as_text=True))
    assert "Perros s'en occupe" in listed
    sign_in(users["vitre"])
    waiting = client.get("/settings").get_data(as_text=True)
    assert f"/help-requests/{request_id}" not in waiting  # not routed to the region yet
    sign_in(users["perros"])
    assert "Perros s'en occupe" in unescape(client.get("/settings").get_data(as_text=True))
