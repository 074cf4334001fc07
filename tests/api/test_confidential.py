"""The confidential lane: a help request marked as a security incident, tried by every way in
with every role, as test_permissions.py tries every write.

Lannion (22, Côtes-d'Armor) is attacked and asks twice, confidentially: one request stays
open, one is answered by the routed cybersecurity referent and resolved. Morlaix asks the same
question in public. Each role then reads every surface: the pages, the API, the lists, search,
the home page, the similar items of Morlaix's page, the figures and their CSV, the digests
of members and subscribers on a real SMTP server, and the live channel, public rooms and its
own user room. Only the town's members, the verified cybersecurity referents and moderators
open it; nobody finds it where nobody in particular reads; the routed referent alone is told,
at once, of "a confidential incident in Côtes-d'Armor".
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import Flask

from maillage.accounts.models import Role, User
from maillage.database import session, transaction, utcnow
from maillage.emails.models import Frequency, Subscription
from maillage.emails.runs import send_digests
from maillage.realtime import socketio
from tests.support.api import bearer
from tests.support.mail import links, local
from tests.support.users import declared_before_the_rule

pytestmark = pytest.mark.smtp

LANNION, PERROS, MORLAIX, QUIMPER = "22113", "22168", "29151", "29232"
CYBER, SOBRIETY, OPEN_DATA = "cybersecurite", "sobriete-numerique", "donnees-ouvertes"
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
# The words of both Lannion's incidents and Morlaix's public request: each is similar to the
# others, and search finds them all but for the confidentiality.
TITLE = "Rançongiciel : les serveurs de la mairie chiffrés"
BODY = "Nos serveurs sont chiffrés par un rançongiciel depuis ce matin, que faire ?"
SECRET = "LockBit"  # in the incidents' titles alone; no notice or list may carry it
SEARCH = quote("rançongiciel")
VAGUE = {"fr": "Un incident confidentiel en Côtes-d'Armor",
         "en": "A confidential incident in Côtes-d'Armor"}

ROLES = ["anonymous", "outsider", "unverified_referent", "other_referent", "cyber_referent",
         "member", "moderator"]
SEEN = {"cyber_referent", "member", "moderator"}  # who opens it
TOLD = {"cyber_referent"}  # who is routed it, so notified
# What each surface shows of it, to whom: the pages and lists a person reads as themselves
# show it to those who may open it; search, feeds, digests, figures, open data, similar items
# and public rooms, read by nobody in particular, to nobody.
EXPECTED: dict[str, set[str]] = {
    "page": SEEN, "api_detail": SEEN, "api_list": SEEN, "api_list_of_town": SEEN,
    "api_list_of_theme": SEEN, "list_page": SEEN, "town_page": SEEN, "theme_page": SEEN,
    "search_api": set(), "search_page": set(), "home": set(),
    "similar_on_another_page": set(), "similar_in_another_detail": set(),
    "theme_figures": set(), "help_figures": set(), "figures_page": set(), "open_data": set(),
    "mail_naming_it": set(), "public_rooms": set(), "own_room": TOLD,
}


ROOMS = [f"theme:{CYBER}", f"theme:{SOBRIETY}", f"town:{LANNION}", "help"]


class Live:
    """A Socket.IO test connection, opened in an app context of its own (as a real server
    gives each its own), optionally authenticated by a token."""

    def __init__(self, app: Flask, token: str | None) -> None:
        self.app = app
        with app.app_context():
            self.client = socketio.test_client(app, auth={"token": token} if token else None)
            joined = self.client.emit("subscribe", {"rooms": ROOMS}, callback=True)
        assert joined == {"rooms": ROOMS}

    def received(self) -> list[tuple[str, Any]]:
        return [(message["name"], *message["args"]) for message in self.client.get_received()]

    def close(self) -> None:
        if self.client.is_connected():
            self.client.disconnect()


@pytest.fixture
def people(app, create_user, token_for, client, smtp, wait) -> dict[str, Any]:
    """The asker and a user per role, each with a write token, who all hear of everything
    in a digest rather than at once; an email-only subscriber of the themes and the town,
    standing for the anonymous visitor in the digests."""
    def person(name: str, **kwargs: Any) -> User:
        return create_user(f"{name}@example.org", **kwargs)

    users = {
        "asker": person("asker", town=LANNION, verified=True),
        "outsider": person("outsider", town=QUIMPER, verified=True),
        "unverified_referent": person("unverified_referent", town=PERROS,
                                      role=Role.REFERENT),
        "other_referent": person("other_referent", town=PERROS, role=Role.REFERENT,
                                 verified=True, expertise=(SOBRIETY,)),
        "cyber_referent": person("cyber_referent", town=PERROS, role=Role.REFERENT,
                                 verified=True, expertise=(CYBER,)),
        "member": person("member", town=LANNION, verified=True),
        "moderator": person("moderator", moderator=True),
        "morlaix": person("morlaix", town=MORLAIX, verified=True),
    }
    declared_before_the_rule(users["unverified_referent"], CYBER)
    tokens = {role: token_for(user) for role, user in users.items()}
    digest_only = {"frequency": "daily", "modes": {
        "help_routed": "digest", "answers": "digest", "following": "digest"}}
    for role in ROLES[1:]:
        assert client.put("/api/v1/me/email-preferences", json=digest_only,
                          headers=bearer(tokens[role])).status_code == 200
    for role in ROLES[1:]:  # everyone follows the town and the themes, as a journalist would
        for target in (f"town/{LANNION}", f"theme/{CYBER}", f"theme/{SOBRIETY}"):
            assert client.put(f"/api/v1/follows/{target}",
                              headers=bearer(tokens[role])).status_code == 200
    with transaction():
        session.execute(sa.update(User).values(created_at=LONG_AGO))
        session.get(User, users["cyber_referent"].id).locale = "en"
    answer = client.post("/api/v1/subscriptions", json={
        "email": "anonymous@example.org", "themes": [CYBER, SOBRIETY], "towns": [LANNION],
        "frequency": "daily"})
    assert answer.status_code == 202, answer.json
    wait()
    [confirmation] = smtp.to("anonymous@example.org")
    [confirm] = [link for link in links(confirmation.get_body(("plain",)).get_content())
                 if "/subscriptions/confirm/" in link]
    assert client.get(local(confirm)).status_code == 200
    with transaction():
        session.execute(sa.update(Subscription).values(confirmed_at=LONG_AGO))
    smtp.messages.clear()
    return {"users": users, "tokens": tokens | {"anonymous": None}}


def ask(client, token: str, town: str, *, confidential: bool) -> int:
    # Morlaix's public request is of a theme nobody here is a referent of: routed to nobody,
    # it tells no one of the words the incidents share.
    answer = client.post("/api/v1/help-requests", headers=bearer(token), json={
        "town": town, "title": f"{TITLE} par {SECRET}" if confidential else TITLE, "body": BODY,
        "themes": [SOBRIETY] if confidential else [OPEN_DATA], "confidential": confidential})
    assert answer.status_code == 201, answer.json
    assert answer.json["confidential"] is confidential
    if confidential:  # an incident is of the cybersecurity theme, whatever else was chosen
        assert sorted(answer.json["themes"]) == [CYBER, SOBRIETY]
    return answer.json["id"]


def incidents(client, people, wait) -> dict[str, int]:
    """Lannion's open and resolved incidents, Morlaix's public request (asked first)."""
    tokens = people["tokens"]
    public = ask(client, tokens["morlaix"], MORLAIX, confidential=False)
    opened = ask(client, tokens["asker"], LANNION, confidential=True)
    resolved = ask(client, tokens["asker"], LANNION, confidential=True)
    answer = client.post(f"/api/v1/help-requests/{resolved}/answers",
                         json={"body": "Débranchez le réseau, puis appelez-nous."},
                         headers=bearer(tokens["cyber_referent"]))
    assert answer.status_code == 201, answer.json
    assert client.post(f"/api/v1/help-requests/{resolved}/answers/{answer.json['id']}/accept",
                       headers=bearer(tokens["asker"])).status_code == 200
    wait()
    return {"public": public, "open": opened, "resolved": resolved}


def signed_in_as(client, sign_in, people, role: str):
    if role == "anonymous":
        return client
    return sign_in(people["users"][role])


def ids(page: dict[str, Any]) -> set[int]:
    return {item["id"] for item in page["items"]}


def theme_counts(rows: list[dict[str, Any]], key: str = "requests") -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["theme"]] = counts.get(row["theme"], 0) + int(row[key])
    return counts


@pytest.mark.parametrize("role", ROLES)
def test_every_way_in(app, client, people, smtp, sign_in, wait, role: str) -> None:
    tokens = people["tokens"]
    listeners = {"public": Live(app, None), "own": Live(app, tokens[role])}
    try:
        made = incidents(client, people, wait)
        heard = {name: listener.received() for name, listener in listeners.items()}
    finally:
        for listener in listeners.values():
            listener.close()
    confidential = {made["open"], made["resolved"]}
    headers = bearer(tokens[role]) if tokens[role] else {}

    def api(path: str) -> Any:
        answer = client.get(path, headers=headers)
        assert answer.status_code == 200, answer.json
        return answer.json

    seen: dict[str, bool] = {}
    detail = client.get(f"/api/v1/help-requests/{made['open']}", headers=headers)
    assert detail.status_code in (200, 404)  # never 403: it does not say it exists
    seen["api_detail"] = detail.status_code == 200
    seen["api_list"] = made["open"] in ids(api("/api/v1/help-requests?limit=100"))
    seen["api_list_of_town"] = made["open"] in ids(
        api(f"/api/v1/help-requests?town={LANNION}&limit=100"))
    seen["api_list_of_theme"] = made["open"] in ids(
        api(f"/api/v1/help-requests?theme={CYBER}&status=open"))
    found = ids(api(f"/api/v1/help-requests?q={SEARCH}"))
    assert made["public"] in found  # search works: it finds Morlaix's request
    seen["search_api"] = bool(found & confidential)
    similar = api(f"/api/v1/help-requests/{made['public']}")["similar_requests"]
    seen["similar_in_another_detail"] = made["resolved"] in {item["id"] for item in similar}
    by_theme = theme_counts(api("/api/v1/figures/help_requests")["rows"])
    answers = api("/api/v1/figures/help_answers")["rows"]
    assert by_theme == {OPEN_DATA: 1}  # Morlaix's
    seen["theme_figures"] = bool(set(by_theme) - {OPEN_DATA}) \
        or bool(set(theme_counts(answers)) - {OPEN_DATA})
    help_figures = api("/api/v1/help-requests/figures")
    seen["help_figures"] = bool(set(theme_counts(help_figures["themes"])) - {OPEN_DATA})
    # The lane is counted, naming no town: two incidents, one answered.
    assert help_figures["incidents"]["requests"] == 2
    assert help_figures["incidents"]["answered"] == 1
    assert help_figures["incidents"]["median_hours_to_first_answer"] is not None
    lane = api("/api/v1/figures/incidents")
    assert [(row["requests"], row["answered"]) for row in lane["rows"]] == [(2, 1)]
    assert "Lannion" not in str(lane)
    assert LANNION not in str(lane)
    exported = client.get("/api/v1/figures/help_requests?format=csv", headers=headers)
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    seen["open_data"] = sum(int(row["requests"]) for row in rows) > 1

    browser = signed_in_as(client, sign_in, people, role)

    def page(path: str) -> str:
        answer = browser.get(path)
        assert answer.status_code == 200, path
        return answer.get_data(as_text=True)

    shown = browser.get(f"/help-requests/{made['open']}")
    assert shown.status_code in (200, 404)
    seen["page"] = shown.status_code == 200
    if seen["page"]:
        assert SECRET in shown.get_data(as_text=True)
    seen["list_page"] = f"/help-requests/{made['open']}\"" in page("/help-requests?status=open")
    seen["town_page"] = f"/help-requests/{made['open']}\"" in page(f"/towns/{LANNION}")
    seen["theme_page"] = f"/help-requests/{made['open']}\"" in page(f"/themes/{CYBER}")
    searched = page(f"/help-requests?q={SEARCH}")
    assert f"/help-requests/{made['public']}\"" in searched
    seen["search_page"] = any(f"/help-requests/{key}\"" in searched for key in confidential)
    # Signed in, the home page is one's notices: the routed referent's link to the incident,
    # saying only where it is.
    seen["home"] = SECRET in page("/")
    seen["similar_on_another_page"] = f"/help-requests/{made['resolved']}\"" in page(
        f"/help-requests/{made['public']}")
    figures = page("/figures")
    assert "Les incidents de cybersécurité confidentiels" in figures \
        or "Confidential cybersecurity incidents" in figures
    seen["figures_page"] = SECRET in figures or "Lannion" in figures

    # The digests of the day and of the week, members' and subscribers', on a real server.
    for frequency, later in ((Frequency.DAILY, 1), (Frequency.WEEKLY, 8)):
        send_digests(frequency, now=utcnow() + timedelta(days=later))
    wait()
    address = f"{role}@example.org"
    mails = [message.as_string() + "".join(
        part.get_content() for part in message.walk() if part.get_content_type()
        in ("text/plain", "text/html")) for message in smtp.to(address)]
    assert bool(mails) is (role in TOLD)  # the routed referent's notices, at once
    seen["mail_naming_it"] = any(SECRET in mail or "serveurs" in mail for mail in mails)

    seen["public_rooms"] = any(
        isinstance(payload, dict) and payload.get("help_request_id") in confidential
        for _name, payload in heard["public"])
    seen["own_room"] = role != "anonymous" and any(name == "notification"
                                                   for name, _payload in heard["own"])

    assert {surface for surface, yes in seen.items() if yes} == {
        surface for surface, roles in EXPECTED.items() if role in roles}
    assert set(seen) == set(EXPECTED)


def help_notices(client, token: str) -> list[dict[str, Any]]:
    listed = client.get("/api/v1/notifications", headers=bearer(token)).json["items"]
    return [item for item in listed if item["kind"].startswith("help.")]


def test_the_notices_say_only_the_departement_and_go_at_once(app, client, people, smtp, wait,
                                                             sign_in) -> None:
    app.config["MAIL_REPLY_DOMAIN"] = "reponse.example.org"  # replies by mail on
    made = incidents(client, people, wait)
    tokens = people["tokens"]
    # The routed referent, in English, who wanted help requests in a digest: told at once.
    notices = smtp.to("cyber_referent@example.org")
    # Routed twice, then told the answer it gave was accepted.
    assert [notice["Subject"] for notice in notices] == [VAGUE["en"]] * 3
    for notice in notices:
        text = notice.get_body(("plain",)).get_content()
        html = notice.get_body(("html",)).get_content()
        assert SECRET not in text
        assert "rançongiciel" not in text  # the body: notices quote others' texts, not this
        assert "rançongiciel" not in html
        assert notice["Reply-To"] is None
        assert "Lannion" not in text
        assert f"http://127.0.0.1:5000/help-requests/{made['open']}" in links(text) \
            or f"http://127.0.0.1:5000/help-requests/{made['resolved']}" in links(text)
    listed = help_notices(client, tokens["cyber_referent"])
    assert len(listed) == 3
    assert {item["text"] for item in listed} == {VAGUE["en"]}
    assert all(item["actor"] is None for item in listed)
    # The asker hears of the answer, at once too, in French, and nothing more.
    [told] = smtp.to("asker@example.org")
    assert told["Subject"] == VAGUE["fr"]
    assert SECRET not in told.as_string()
    # Opened by the referent signed in, the page says it all.
    page = sign_in(people["users"]["cyber_referent"]).get(f"/help-requests/{made['open']}")
    assert page.status_code == 200
    assert SECRET in page.get_data(as_text=True)
    # What waits for a referent: the incident for the cybersecurity one, not for the referent
    # of its other theme.
    assert f"/help-requests/{made['open']}\"" in client.get("/settings").get_data(as_text=True)
    waiting = sign_in(people["users"]["other_referent"]).get("/settings")
    assert f"/help-requests/{made['open']}\"" not in waiting.get_data(as_text=True)
    # Nobody else was told: not the referent of another theme, not the unverified one.
    for role in ("other_referent", "unverified_referent", "outsider", "member"):
        assert smtp.to(f"{role}@example.org") == []
        assert help_notices(client, tokens[role]) == []


@pytest.mark.parametrize("role", ["outsider", "unverified_referent", "other_referent"])
def test_whoever_may_not_see_it_may_not_follow_report_or_answer_it_either(
        client, people, wait, role: str) -> None:
    made = incidents(client, people, wait)
    headers = bearer(people["tokens"][role])
    for method, path, body in (
            ("PUT", f"/api/v1/follows/help-request/{made['open']}", None),
            ("POST", "/api/v1/reports", {"kind": "help-request", "target_id": made["open"],
                                         "reason": "Curieux"}),
            ("POST", f"/api/v1/help-requests/{made['open']}/answers", {"body": "Alors ?"})):
        answer = client.open(path, method=method, json=body, headers=headers)
        assert answer.status_code == 404, (path, answer.json)


def test_a_form_asks_confidentially(client, people, sign_in, csrf) -> None:
    sign_in(people["users"]["asker"])
    form = client.get("/help-requests/new").get_data(as_text=True)
    assert "Incident de cybersécurité — confidentiel" in form
    answer = client.post("/help-requests/new", data={
        "csrf_token": csrf(), "town": LANNION, "title": TITLE, "body": BODY,
        "themes": [SOBRIETY], "confidential": "true"})
    assert answer.status_code == 303
    shown = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Incident de cybersécurité, confidentiel" in shown
    with client.session_transaction() as cookie_session:
        cookie_session.clear()
    assert client.get(answer.headers["Location"]).status_code == 404
    bad = client.post("/api/v1/help-requests", headers=bearer(people["tokens"]["asker"]),
                      json={"town": LANNION, "title": TITLE, "body": BODY,
                            "themes": [SOBRIETY], "confidential": "peut-être"})
    assert bad.status_code == 422
    assert "confidential" in bad.json["errors"]["json"]


def test_a_claimed_incident_is_told_to_no_public_room_and_has_no_room_of_its_own(
        app, client, people, wait) -> None:
    tokens = people["tokens"]
    live = Live(app, None)  # a visitor on the themes', the town's and the help rooms
    try:
        made = incidents(client, people, wait)
        live.received()
        with app.app_context():
            own = live.client.emit("subscribe", {"rooms": [f"help-request:{made['open']}"]},
                                   callback=True)
            public = live.client.emit("subscribe",
                                      {"rooms": [f"help-request:{made['public']}"]},
                                      callback=True)
        assert own == {"rooms": []}
        assert public == {"rooms": [f"help-request:{made['public']}"]}  # the control
        claimed = client.post(f"/api/v1/help-requests/{made['open']}/claim",
                              headers=bearer(tokens["cyber_referent"]))
        assert claimed.status_code == 200, claimed.json
        wait()
        assert live.received() == []
        # The asker hears who took it on, as vaguely as of the rest.
        assert {item["text"] for item in help_notices(client, tokens["asker"])} == \
            {VAGUE["fr"]}
    finally:
        live.close()
