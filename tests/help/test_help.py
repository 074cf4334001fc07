"""Peer help through the API: routing by circle, escalation, answers and their acceptance,
permissions, validation, offers, similar items and figures; their moderation.

The towns are real communes of Brittany (region 53), in three of its departments: Lannion and
Perros-Guirec (22), Morlaix and Quimperlé (29), Vitré and Fougères (35); Granville (50) is in
Normandy, outside the region.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from maillage.accounts.models import Role, User
from maillage.database import session, transaction
from maillage.events import Event
from maillage.help.models import Circle, HelpAnswer, HelpRequest, Status
from maillage.help.operations import answer as answer_request
from maillage.help.operations import ask_for_help
from maillage.help.queries import circle_sizes, waiting_for
from maillage.moderation.operations import hide
from maillage.notifications.models import Notification
from maillage.towns.queries import get_town
from tests.support.api import bearer
from tests.support.users import declared_before_the_rule
from workers.escalation import follow_through_help

LANNION, PERROS, MORLAIX, QUIMPERLE, VITRE, FOUGERES, GRANVILLE = (
    "22113", "22168", "29151", "29233", "35360", "35115", "50218")
CYBER, SOBRIETY = "cybersecurite", "sobriete-numerique"
ASK = {"town": LANNION, "title": "Sécuriser les boîtes mail de la mairie",
       "body": "Nos **messageries** reçoivent du hameçonnage. <script>alert(1)</script>",
       "themes": [CYBER]}




@pytest.fixture
def people(create_user, token_for):
    """An asker in Lannion and referents around it, with their write tokens."""
    def member(name: str, town: str, *expertise: str, verified: bool = True) -> User:
        user = create_user(f"{name}@example.org", town=town, verified=verified,
                           role=Role.REFERENT if expertise else Role.AGENT,
                           expertise=expertise if verified else ())
        if not verified:
            declared_before_the_rule(user, *expertise)
        return user

    users = {
        "asker": member("asker", LANNION),
        "colleague": member("colleague", LANNION, CYBER),
        "perros": member("perros", PERROS, CYBER),
        "morlaix": member("morlaix", MORLAIX, CYBER, "resilience"),
        "vitre": member("vitre", VITRE, CYBER, "resilience"),
        "granville": member("granville", GRANVILLE, CYBER, "resilience"),
        "sober": member("sober", PERROS, SOBRIETY),
        "unverified": member("unverified", PERROS, CYBER, verified=False),
        "quimperle": member("quimperle", QUIMPERLE),
        "nobody": create_user("nobody@example.org"),
    }
    # A referent of Fougères who also joined Lannion (not verified yet): still one of
    # Lannion's own people, so not routed its questions.
    users["dual"] = member("dual", FOUGERES, CYBER)
    from maillage.accounts import operations as accounts

    with transaction():
        accounts.join_town(session.get(User, users["dual"].id), LANNION, Role.AGENT)
    tokens = {name: token_for(user) for name, user in users.items()}
    return users, tokens


def notified(kind: str) -> list[dict[str, tuple[str, str]]]:
    """Return, event by event, (reason, reason_ref) of the notifications of `kind` by the
    local part of their reader's address."""
    rows = session.execute(sa.select(Notification.event_id, User.email, Notification.reason,
                                     Notification.reason_ref)
                           .join(User, User.id == Notification.user_id)
                           .where(Notification.kind == kind).order_by(Notification.id)).all()
    by_event: dict[int, dict[str, tuple[str, str]]] = {}
    for event_id, email, reason, ref in rows:
        by_event.setdefault(event_id, {})[email.split("@")[0]] = (reason, ref)
    return [by_event[event_id] for event_id in sorted(by_event)]


def events_of(kind: str) -> list[dict]:
    return [event.payload for event in session.scalars(
        sa.select(Event).where(Event.kind == kind).order_by(Event.id))]


def ask(client, token: str, **changes) -> dict:
    response = client.post("/api/v1/help-requests", json=ASK | changes, headers=bearer(token))
    assert response.status_code == 201, response.json
    return response.json


def test_the_circles_hold_the_verified_referents_of_the_theme_outside_the_town(
        app, people) -> None:
    theme_id = session.scalar(sa.text("SELECT id FROM themes WHERE slug = :s"), {"s": CYBER})
    # Perros-Guirec in the department; Morlaix and Vitré in the region (Fougères' referent is
    # also Lannion's); Granville in the network. Lannion's own, the unverified, the
    # sobriety referent: nowhere.
    assert circle_sizes(get_town(LANNION), [theme_id]) == {
        Circle.DEPARTMENT: 1, Circle.REGION: 2, Circle.NETWORK: 1}
    # From Quimperlé, Morlaix is the department; Lannion's colleague, Perros-Guirec, Vitré and
    # Fougères the region.
    assert circle_sizes(get_town(QUIMPERLE), [theme_id]) == {
        Circle.DEPARTMENT: 1, Circle.REGION: 4, Circle.NETWORK: 1}


def test_a_request_reaches_the_nearest_circle_only(client, people, wait) -> None:
    _users, tokens = people
    created = ask(client, tokens["asker"])
    assert created["circle"] == "department"
    assert created["status"] == "open"
    assert "<script>" not in created["body_html"]
    assert "<strong>messageries</strong>" in created["body_html"]
    wait()
    assert events_of("help.requested") == [{
        "help_request_id": created["id"], "town_insee": LANNION, "themes": [CYBER],
        "title": ASK["title"], "circle": "department",
        "confidential": False}]
    assert notified("help.requested") == [{"perros": ("referent", "department")}]


def test_without_referents_in_the_department_the_region_is_asked(client, people,
                                                                  wait) -> None:
    _users, tokens = people
    created = ask(client, tokens["asker"], themes=["resilience"])
    assert created["circle"] == "region"
    wait()
    assert notified("help.requested") == [{"morlaix": ("referent", "region"),
                                           "vitre": ("referent", "region")}]


def test_without_any_referent_the_network_is_asked_and_nobody_is_notified(
        client, people, wait) -> None:
    _users, tokens = people
    created = ask(client, tokens["asker"], themes=["donnees-ouvertes"])
    assert created["circle"] == "network"
    wait()
    assert notified("help.requested") == []


def test_escalation_happens_at_the_delay_to_the_next_circle(app, client, people,
                                                            wait) -> None:
    _users, tokens = people
    created = ask(client, tokens["asker"])
    wait()
    delay = app.config["HELP_ESCALATION_DELAY"]
    asked_at = session.get(HelpRequest, created["id"]).created_at
    assert follow_through_help(now=asked_at + delay - timedelta(seconds=1)).escalated == []
    assert follow_through_help(now=asked_at + delay).escalated == [created["id"]]
    wait()
    request = session.get(HelpRequest, created["id"])
    assert (request.circle, request.escalated_at) == (Circle.REGION, asked_at + delay)
    assert events_of("help.escalated") == [{
        "help_request_id": created["id"], "town_insee": LANNION, "themes": [CYBER],
        "title": ASK["title"], "circle": "region", "previous_circle": "department",
        "confidential": False}]
    # The region's referents; not Perros-Guirec again.
    assert notified("help.escalated") == [{"morlaix": ("referent", "region"),
                                           "vitre": ("referent", "region")}]
    # Not again before its next delay, counted from the region.
    assert follow_through_help(now=asked_at + 2 * delay - timedelta(seconds=1)).escalated == []
    wait()
    assert len(events_of("help.escalated")) == 1


def test_an_answered_request_is_not_escalated(app, client, people, wait) -> None:
    _users, tokens = people
    created = ask(client, tokens["asker"])
    assert client.post(f"/api/v1/help-requests/{created['id']}/answers",
                       json={"body": "Activez DMARC."},
                       headers=bearer(tokens["perros"])).status_code == 201
    wait()
    asked_at = session.get(HelpRequest, created["id"]).created_at
    assert follow_through_help(now=asked_at + timedelta(days=30)).escalated == []


def test_answers_and_acceptance(client, people, wait) -> None:
    _users, tokens = people
    created = ask(client, tokens["asker"])
    url = f"/api/v1/help-requests/{created['id']}"
    by_referent = client.post(f"{url}/answers", json={"body": "Activez *DMARC*."},
                              headers=bearer(tokens["perros"]))
    # Followers are those of when the event is processed: let the first answer's be alone.
    wait()
    by_peer = client.post(f"{url}/answers", json={"body": "Nous avons formé les agents."},
                          headers=bearer(tokens["quimperle"]))
    assert (by_referent.status_code, by_peer.status_code) == (201, 201)
    assert (by_referent.json["by_referent"], by_peer.json["by_referent"]) == (True, False)
    wait()
    # The asker each time; the first answerer, who follows the request, of the second.
    assert notified("help.answered") == [
        {"asker": ("asker", "")},
        {"asker": ("asker", ""), "perros": ("help-request", str(created["id"]))}]
    assert client.get(url).json["status"] == "answered"

    # Someone else's request: refused, nothing changes.
    refused = client.post(f"{url}/answers/{by_referent.json['id']}/accept",
                          headers=bearer(tokens["quimperle"]))
    assert refused.status_code == 403
    assert session.get(HelpRequest, created["id"]).status is Status.ANSWERED

    accepted = client.post(f"{url}/answers/{by_referent.json['id']}/accept",
                           headers=bearer(tokens["asker"]))
    assert accepted.status_code == 200
    assert accepted.json["status"] == "resolved"
    assert [a["accepted_at"] is not None for a in accepted.json["answers"]] == [True, False]
    again = client.post(f"{url}/answers/{by_peer.json['id']}/accept",
                        headers=bearer(tokens["asker"]))
    assert again.status_code == 409
    assert session.get(HelpAnswer, by_peer.json["id"]).accepted_at is None
    wait()
    # The answerers follow the request; the asker accepted, and is told nothing.
    assert notified("help.accepted") == [{"perros": ("help-request", str(created["id"])),
                                          "quimperle": ("help-request", str(created["id"]))}]
    assert [p["circle"] for p in events_of("help.accepted")] == ["department"]


def test_the_asker_closes_a_request_unresolved(app, client, people, wait) -> None:
    _users, tokens = people
    created = ask(client, tokens["asker"])
    url = f"/api/v1/help-requests/{created['id']}"
    assert client.post(f"{url}/answers", json={"body": "Activez DMARC."},
                       headers=bearer(tokens["perros"])).status_code == 201
    wait()

    refused = client.post(f"{url}/close", headers=bearer(tokens["quimperle"]))
    assert refused.status_code == 403
    assert session.get(HelpRequest, created["id"]).status is Status.ANSWERED

    closed = client.post(f"{url}/close", headers=bearer(tokens["asker"]))
    assert closed.status_code == 200
    assert closed.json["status"] == "closed"
    assert client.post(f"{url}/close", headers=bearer(tokens["asker"])).status_code == 409
    late = client.post(f"{url}/answers", json={"body": "Trop tard ?"},
                       headers=bearer(tokens["quimperle"]))
    assert late.status_code == 409
    wait()
    # The answerer follows the request and hears of it; the asker closed it, and is the actor.
    assert notified("help.closed") == [{"perros": ("help-request", str(created["id"]))}]
    asked_at = session.get(HelpRequest, created["id"]).created_at
    assert follow_through_help(now=asked_at + timedelta(days=30)).escalated == []
    listed = client.get("/api/v1/help-requests", query_string={"status": "closed"}).json
    assert [item["id"] for item in listed["items"]] == [created["id"]]


def test_a_resolved_request_cannot_be_closed(client, people) -> None:
    _users, tokens = people
    created = ask(client, tokens["asker"])
    _resolve(client, tokens, created["id"])
    refused = client.post(f"/api/v1/help-requests/{created['id']}/close",
                          headers=bearer(tokens["asker"]))
    assert refused.status_code == 409
    assert session.get(HelpRequest, created["id"]).status is Status.RESOLVED


def test_an_answer_of_another_request_cannot_be_accepted(client, people) -> None:
    _users, tokens = people
    first, second = ask(client, tokens["asker"]), ask(client, tokens["asker"])
    answer = client.post(f"/api/v1/help-requests/{second['id']}/answers",
                         json={"body": "Oui."}, headers=bearer(tokens["perros"])).json
    response = client.post(f"/api/v1/help-requests/{first['id']}/answers/{answer['id']}/accept",
                           headers=bearer(tokens["asker"]))
    assert response.status_code == 404
    assert session.get(HelpRequest, second["id"]).status is Status.ANSWERED


def test_permissions_refuse_and_change_nothing(client, people) -> None:
    _users, tokens = people
    assert client.post("/api/v1/help-requests", json=ASK).status_code == 401
    # Not a verified member of Lannion: the unverified, and a member of another town.
    for name in ("unverified", "quimperle", "nobody"):
        assert client.post("/api/v1/help-requests", json=ASK,
                           headers=bearer(tokens[name])).status_code == 403
    assert session.scalar(sa.select(sa.func.count()).select_from(HelpRequest)) == 0
    created = ask(client, tokens["asker"])
    url = f"/api/v1/help-requests/{created['id']}/answers"
    assert client.post(url, json={"body": "x"}).status_code == 401
    for name in ("unverified", "nobody"):
        assert client.post(url, json={"body": "x"},
                           headers=bearer(tokens[name])).status_code == 403
    assert session.scalar(sa.select(sa.func.count()).select_from(HelpAnswer)) == 0
    assert client.get("/api/v1/help-requests?mine=true").status_code == 401
    assert client.post("/api/v1/help-requests/999999/answers", json={"body": "x"},
                       headers=bearer(tokens["perros"])).status_code == 404


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"title": ""}, "title", "Length"),
    ({"themes": []}, "themes", "Length"),
    ({"themes": ["nope"]}, "themes", "Unknown theme: nope"),
    ({"town": "abc"}, "town", "Not an INSEE code"),
    ({"town": "99999"}, "town", "No town"),
    ({"deadline": "2001-01-01"}, "deadline", "already past"),
    ({"deadline": "tomorrow"}, "deadline", "Not a valid date"),
    ({"extra": 1}, "extra", "Unknown field"),
])
def test_bad_input_is_a_422_by_field_and_creates_nothing(client, people, changes, field,
                                                         message) -> None:
    _users, tokens = people
    response = client.post("/api/v1/help-requests", json=ASK | changes,
                           headers=bearer(tokens["asker"]))
    assert response.status_code == 422
    messages = response.json["errors"]["json"][field]
    assert message.casefold() in " ".join(map(str, messages)).casefold()
    assert session.scalar(sa.select(sa.func.count()).select_from(HelpRequest)) == 0


def test_a_deadline_of_today_or_later_is_kept(client, people) -> None:
    _users, tokens = people
    later = (date.today() + timedelta(days=20)).isoformat()
    assert ask(client, tokens["asker"], deadline=later)["deadline"] == later


def _resolve(client, tokens, request_id: int) -> None:
    answer = client.post(f"/api/v1/help-requests/{request_id}/answers", json={"body": "Voilà."},
                         headers=bearer(tokens["perros"])).json
    assert client.post(f"/api/v1/help-requests/{request_id}/answers/{answer['id']}/accept",
                       headers=bearer(tokens["asker"])).status_code == 200


def test_a_request_shows_similar_resolved_requests_and_initiatives(client, people) -> None:
    _users, tokens = people
    alike = ask(client, tokens["asker"], title="Protéger nos messageries du hameçonnage",
                body="Les boîtes mail des agents reçoivent des courriels piégés.")
    unrelated = ask(client, tokens["asker"], title="Réduire la consommation des imprimantes",
                    body="Le parc d'impression consomme trop.", themes=[SOBRIETY])
    open_alike = ask(client, tokens["asker"], title="Hameçonnage des messageries",
                     body="Encore des courriels piégés.")
    for request in (alike, unrelated):
        _resolve(client, tokens, request["id"])
    initiative = client.post("/api/v1/initiatives", headers=bearer(tokens["asker"]), json={
        "town": LANNION, "title": "Une messagerie protégée du hameçonnage",
        "summary": "Filtrage des courriels piégés.", "body": "Détails.", "themes": [CYBER]})
    assert initiative.status_code == 201
    other = client.post("/api/v1/initiatives", headers=bearer(tokens["asker"]), json={
        "town": LANNION, "title": "Des jardins partagés", "summary": "Potagers.",
        "body": "Rien à voir.", "themes": [SOBRIETY]})
    assert other.status_code == 201

    shown = client.get(f"/api/v1/help-requests/{ask(client, tokens['asker'])['id']}").json
    assert [r["id"] for r in shown["similar_requests"]] == [alike["id"]]
    assert open_alike["id"] not in [r["id"] for r in shown["similar_requests"]]
    assert [i["id"] for i in shown["similar_initiatives"]] == [initiative.json["id"]]


def test_the_list_puts_open_requests_first_the_longest_waiting_on_top(client, people) -> None:
    _users, tokens = people
    first = ask(client, tokens["asker"], title="Première demande")
    resolved = ask(client, tokens["asker"], title="Demande résolue")
    _resolve(client, tokens, resolved["id"])
    answered = ask(client, tokens["asker"], title="Demande avec réponse")
    client.post(f"/api/v1/help-requests/{answered['id']}/answers", json={"body": "Oui."},
                headers=bearer(tokens["perros"]))
    last = ask(client, tokens["asker"], title="Dernière demande")
    other = ask(client, tokens["asker"], title="Sobriété", themes=[SOBRIETY])

    def ids(query: str, token: str | None = None) -> list[int]:
        collected, cursor = [], None
        while True:
            url = f"/api/v1/help-requests?limit=2&{query}" + (f"&cursor={cursor}" if cursor
                                                              else "")
            page = client.get(url, headers=bearer(token) if token else {}).json
            collected += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return collected

    assert ids("") == [first["id"], last["id"], other["id"], answered["id"], resolved["id"]]
    assert ids(f"theme={SOBRIETY}") == [other["id"]]
    assert ids("status=resolved") == [resolved["id"]]
    assert ids("department=22") == ids("")
    assert ids("department=29") == []
    assert ids("region=53&status=answered") == [answered["id"]]
    assert ids("mine=true", tokens["asker"]) == ids("")
    assert ids("mine=true", tokens["perros"]) == []
    assert ids("q=demande résolue") == [resolved["id"]]
    assert client.get("/api/v1/help-requests?cursor=nonsense").status_code == 422
    assert client.get("/api/v1/help-requests?status=lost").status_code == 422


def test_offers_and_the_offers_a_new_request_lists(client, people) -> None:
    _users, tokens = people
    offer = {"title": "Nous avons sécurisé nos messageries", "body": "Demandez-nous.",
             "themes": [CYBER]}
    by_town = client.post("/api/v1/help-offers", json=offer | {"town": VITRE},
                          headers=bearer(tokens["vitre"]))
    by_referent = client.post("/api/v1/help-offers", json=offer,
                              headers=bearer(tokens["perros"]))
    near_town = client.post("/api/v1/help-offers", json=offer | {"town": PERROS},
                            headers=bearer(tokens["perros"]))
    assert {by_town.status_code, by_referent.status_code, near_town.status_code} == {201}
    assert client.post("/api/v1/help-offers", json=offer,
                       headers=bearer(tokens["quimperle"])).status_code == 403
    assert client.post("/api/v1/help-offers", json=offer | {"town": MORLAIX},
                       headers=bearer(tokens["vitre"])).status_code == 403
    assert client.post("/api/v1/help-offers", json=offer).status_code == 401
    assert client.post("/api/v1/help-offers", json=offer | {"themes": ["nope"]},
                       headers=bearer(tokens["vitre"])).status_code == 422
    client.post("/api/v1/help-offers", json=offer | {"themes": [SOBRIETY]},
                headers=bearer(tokens["sober"]))
    listed = client.get(f"/api/v1/help-offers?theme={CYBER}").json
    assert [o["id"] for o in listed["items"]] == [near_town.json["id"], by_referent.json["id"],
                                                  by_town.json["id"]]
    created = ask(client, tokens["asker"])
    # Perros-Guirec (department), then Vitré (region), then the referent's own offer.
    assert [o["id"] for o in created["offers"]] == [near_town.json["id"], by_town.json["id"],
                                                    by_referent.json["id"]]


def test_the_requests_waiting_for_a_referent(client, people) -> None:
    users, tokens = people
    near = ask(client, tokens["asker"])
    regional = ask(client, tokens["asker"], themes=["resilience"])
    done = ask(client, tokens["asker"])
    _resolve(client, tokens, done["id"])
    assert [r.id for r in waiting_for(users["perros"])] == [near["id"]]
    assert [r.id for r in waiting_for(users["morlaix"])] == [regional["id"]]
    assert waiting_for(users["colleague"]) == []
    assert waiting_for(users["granville"]) == []
    with transaction():
        session.get(HelpRequest, near["id"]).circle = Circle.REGION
    assert [r.id for r in waiting_for(users["morlaix"])] == [near["id"], regional["id"]]


def test_figures_per_theme(client, people) -> None:
    _users, tokens = people
    quick = ask(client, tokens["asker"])
    slow = ask(client, tokens["asker"], themes=[CYBER, "resilience"])
    ask(client, tokens["asker"], themes=["resilience"])
    _resolve(client, tokens, quick["id"])
    client.post(f"/api/v1/help-requests/{slow['id']}/answers", json={"body": "Oui."},
                headers=bearer(tokens["morlaix"]))
    with transaction():
        for request_id, hours in ((quick["id"], 2), (slow["id"], 10)):
            request = session.get(HelpRequest, request_id)
            first = session.scalar(sa.select(sa.func.min(HelpAnswer.created_at))
                                   .where(HelpAnswer.help_request_id == request_id))
            request.created_at = first - timedelta(hours=hours)
    figures = {row["theme"]: row for row in
               client.get("/api/v1/help-requests/figures").json["themes"]}
    assert figures == {
        CYBER: {"theme": CYBER, "theme_name": "Cybersécurité", "requests": 2, "answered": 2,
                "resolved": 1, "resolved_share": 0.5, "mean_hours_to_first_answer": 6.0,
                "mean_hours_to_claim": None},
        "resilience": {"theme": "resilience", "theme_name": "Résilience et gestion de crise",
                       "requests": 2, "answered": 1, "resolved": 0, "resolved_share": 0.0,
                       "mean_hours_to_first_answer": 10.0,
                       "mean_hours_to_claim": None},
    }
    # The network figures show the same numbers, and the requests of each month.
    assert client.get("/api/v1/figures/help_answers").json["rows"] == \
        sorted(figures.values(), key=lambda row: row["theme"])
    month = session.scalar(sa.select(HelpRequest.created_at)
                           .where(HelpRequest.id == quick["id"])).strftime("%Y-%m")
    per_month = client.get("/api/v1/figures/help_requests").json["rows"]
    assert sum(row["requests"] for row in per_month if row["theme"] == CYBER) == 2
    assert any(row["month"] == month and row["theme"] == CYBER for row in per_month)


def test_the_escalation_delay_is_a_number_of_hours() -> None:
    from maillage import settings

    assert settings.load({})["HELP_ESCALATION_DELAY"] == timedelta(days=3)
    assert settings.load({"HELP_ESCALATION_DELAY": "1.5"})["HELP_ESCALATION_DELAY"] \
        == timedelta(minutes=90)
    for wrong in ("three days", "0", "-4"):
        with pytest.raises(settings.SettingsError, match="HELP_ESCALATION_DELAY"):
            settings.load({"HELP_ESCALATION_DELAY": wrong})


def test_anyone_signed_in_follows_a_request_and_hears_of_its_answers(client, people,
                                                                      wait) -> None:
    _users, tokens = people
    created = ask(client, tokens["asker"])
    path = f"/api/v1/follows/help-request/{created['id']}"
    for _twice in range(2):
        assert client.put(path, headers=bearer(tokens["quimperle"])).status_code == 200
    follows = client.get("/api/v1/follows", headers=bearer(tokens["quimperle"])).json
    assert [f["target"] for f in follows] == ["help-request"]
    assert client.put("/api/v1/follows/help-request/999999",
                      headers=bearer(tokens["quimperle"])).status_code == 404
    assert client.put(path).status_code == 401

    answer = client.post(f"/api/v1/help-requests/{created['id']}/answers",
                         json={"body": "Nous l’avons fait avec le CERT régional."},
                         headers=bearer(tokens["perros"]))
    assert answer.status_code == 201
    wait()
    assert notified("help.answered") == [{"asker": ("asker", ""),
                                          "quimperle": ("help-request", str(created["id"]))}]

    assert client.delete(path, headers=bearer(tokens["quimperle"])).status_code == 204
    assert client.get("/api/v1/follows", headers=bearer(tokens["quimperle"])).json == []


# --- Moderation: requests and answers are reported and hidden like any content ------------
def test_help_requests_and_answers_are_reported_hidden_and_restored(
        client, people, create_user, token_for) -> None:
    users, tokens = people
    created = ask(client, tokens["asker"])
    url = f"/api/v1/help-requests/{created['id']}"
    answer = client.post(f"{url}/answers", json={"body": "Activez DMARC."},
                         headers=bearer(tokens["perros"])).json
    reader = bearer(tokens["nobody"])
    moderator = bearer(token_for(create_user(moderator=True)))
    for kind, target_id in (("help-request", created["id"]), ("help-answer", answer["id"])):
        assert client.post("/api/v1/reports", json={"kind": kind, "target_id": target_id,
                                                    "reason": "Hors sujet"},
                           headers=reader).status_code == 201
    assert sorted((r["kind"], r["target_id"]) for r in
                  client.get("/api/v1/reports", headers=moderator).json) == [
        ("help-answer", answer["id"]), ("help-request", created["id"])]

    # A hidden answer is shown to nobody, and cannot be the accepted one.
    assert client.post(f"/api/v1/moderation/help-answer/{answer['id']}/hide", json={},
                       headers=moderator).status_code == 200
    assert client.get(url, headers=moderator).json["answers"] == []
    assert "Activez DMARC." not in client.get(f"/help-requests/{created['id']}").get_data(
        as_text=True)
    assert client.post(f"{url}/answers/{answer['id']}/accept",
                       headers=bearer(tokens["asker"])).status_code == 404
    # Its only answer hidden, the request waits for one again.
    assert client.get(url).json["status"] == "open"
    assert client.get("/api/v1/help-requests/figures").json["themes"][0]["answered"] == 0

    # A hidden request is seen by moderators only, leaves the lists and takes no answer.
    assert client.post(f"/api/v1/moderation/help-request/{created['id']}/hide", json={},
                       headers=moderator).status_code == 200
    for headers in (reader, bearer(tokens["asker"]), {}):
        assert client.get(url, headers=headers).status_code == 404
    assert client.get(url, headers=moderator).status_code == 200
    assert client.get(f"/help-requests/{created['id']}").status_code == 404
    assert client.get("/api/v1/help-requests").json["items"] == []
    assert client.get("/api/v1/help-requests/figures").json["themes"] == []
    assert waiting_for(session.get(User, users["perros"].id)) == []
    assert client.post(f"{url}/answers", json={"body": "Et DKIM."},
                       headers=bearer(tokens["morlaix"])).status_code == 404
    assert client.post(f"{url}/close", headers=bearer(tokens["asker"])).status_code == 404
    assert client.put(f"/api/v1/follows/help-request/{created['id']}",
                      headers=reader).status_code == 404
    assert session.scalar(sa.select(sa.func.count()).select_from(HelpAnswer)) == 1
    assert session.get(HelpRequest, created["id"]).status is Status.OPEN

    for kind, target_id in (("help-request", created["id"]), ("help-answer", answer["id"])):
        assert client.post(f"/api/v1/moderation/{kind}/{target_id}/restore", json={},
                           headers=moderator).status_code == 200
    restored = client.get(url, headers=reader).json
    assert ([a["id"] for a in restored["answers"]], restored["status"]) == (
        [answer["id"]], "answered")
    assert [r["id"] for r in client.get("/api/v1/help-requests").json["items"]] == \
        [created["id"]]

    # An answer is as hidden as its request: nobody else may report it.
    client.post(f"/api/v1/moderation/help-request/{created['id']}/hide", json={},
                headers=moderator)
    assert client.post("/api/v1/reports", json={"kind": "help-answer", "target_id": answer["id"],
                                                "reason": "Encore"},
                       headers=bearer(tokens["morlaix"])).status_code == 404


def test_hidden_help_is_never_notified(client, people, create_user, wait) -> None:
    users, tokens = people
    moderator_id = create_user(moderator=True).id
    with transaction():
        # Asked, then hidden before any worker ran: the fan-out finds it hidden.
        request = ask_for_help(session.get(User, users["asker"].id), town=LANNION,
                               title="Achat de rubans", body="Publicité.", themes=[CYBER])
        hide(session.get(User, moderator_id), "help-request", request.id)
    created = ask(client, tokens["asker"])
    wait()
    assert [set(readers) for readers in notified("help.requested")] == [{"perros"}]
    with transaction():
        posted = answer_request(session.get(User, users["morlaix"].id),
                                session.get(HelpRequest, created["id"]), "Achetez mes rubans.")
        hide(session.get(User, moderator_id), "help-answer", posted.id)
    wait()
    assert notified("help.answered") == []
    assert session.scalar(sa.select(sa.func.count()).select_from(Event)
                          .where(Event.processed_at.is_(None))) == 0


def test_the_pages_offer_to_report_help_and_the_moderators_find_it(
        client, people, create_user, sign_in, csrf) -> None:
    _users, tokens = people
    created = ask(client, tokens["asker"])
    answer = client.post(f"/api/v1/help-requests/{created['id']}/answers",
                         json={"body": "Voici."}, headers=bearer(tokens["perros"])).json
    sign_in(create_user())
    page = client.get(f"/help-requests/{created['id']}").get_data(as_text=True)
    assert 'name="kind" value="help-request"' in page
    assert f'id="reason-help-answer-{answer["id"]}"' in page
    assert client.post("/reports", data={"csrf_token": csrf(), "kind": "help-answer",
                                         "target_id": answer["id"],
                                         "reason": "Hors sujet"}).status_code == 303
    sign_in(create_user(moderator=True))
    page = client.get("/moderation").get_data(as_text=True)
    assert f'href="/help-requests/{created["id"]}#reponse-{answer["id"]}"' in page
    assert client.post(f"/moderation/help-answer/{answer['id']}/hide",
                       data={"csrf_token": csrf()}).status_code == 303
    # On no page now, not even for moderators: theirs quotes it, to restore it knowingly.
    assert "Voici." not in client.get(f"/help-requests/{created['id']}").get_data(as_text=True)
    page = client.get("/moderation").get_data(as_text=True)
    assert '<blockquote class="reported">Voici.</blockquote>' in page
    assert "(masqué)" in page
    # A hidden request: its page still shows to moderators, marked.
    assert "Masquée par la modération" not in client.get(
        f"/help-requests/{created['id']}").get_data(as_text=True)
    assert client.post(f"/moderation/help-request/{created['id']}/hide",
                       data={"csrf_token": csrf()}).status_code == 303
    assert "Masquée par la modération" in client.get(
        f"/help-requests/{created['id']}").get_data(as_text=True)
    # "Rétablir" for what is hidden now: twice, then once.
    assert client.get("/moderation").get_data(as_text=True).count("Rétablir") == 2
    assert client.post(f"/moderation/help-answer/{answer['id']}/restore",
                       data={"csrf_token": csrf()}).status_code == 303
    assert client.get("/moderation").get_data(as_text=True).count("Rétablir") == 1


def test_a_hidden_accepted_answer_resolves_nothing_until_restored(client, people,
                                                                  create_user,
                                                                  token_for) -> None:
    _users, tokens = people
    created = ask(client, tokens["asker"])
    url = f"/api/v1/help-requests/{created['id']}"
    first, second = (client.post(f"{url}/answers", json={"body": body},
                                 headers=bearer(tokens[name])).json["id"]
                     for name, body in (("perros", "Activez DMARC."), ("morlaix", "Et SPF.")))
    client.post(f"{url}/answers/{first}/accept", headers=bearer(tokens["asker"]))
    moderator = bearer(token_for(create_user(moderator=True)))

    client.post(f"/api/v1/moderation/help-answer/{first}/hide", json={}, headers=moderator)
    shown = client.get(url).json
    assert (shown["status"], shown["resolved_at"]) == ("answered", None)
    assert [a["id"] for a in shown["answers"]] == [second]
    client.post(f"/api/v1/moderation/help-answer/{second}/hide", json={}, headers=moderator)
    assert client.get(url).json["status"] == "open"

    client.post(f"/api/v1/moderation/help-answer/{first}/restore", json={},
                headers=moderator)
    shown = client.get(url).json
    assert (shown["status"], [a["id"] for a in shown["answers"]]) == ("resolved", [first])
    assert shown["resolved_at"] == shown["answers"][0]["accepted_at"]


def test_only_verified_members_and_granted_people_are_referents(client, create_user,
                                                                token_for) -> None:
    offer = {"title": "Nous avons sécurisé nos messageries", "body": "Demandez-nous.",
             "themes": [CYBER]}
    pending = create_user(town=LANNION)  # a membership, not verified
    declared_before_the_rule(pending, CYBER)
    for user in (create_user(), pending):
        headers = bearer(token_for(user))
        refused = client.put("/api/v1/me/expertise", json={"themes": [CYBER]}, headers=headers)
        assert refused.status_code == 403
        assert "verified members of a town" in refused.json["message"]
        refused = client.post("/api/v1/help-offers", json=offer, headers=headers)
        assert refused.status_code == 403
        assert "admin's grant" in refused.json["message"]
    # What they declared before the rule, they may still withdraw.
    assert client.put("/api/v1/me/expertise", json={"themes": []},
                      headers=bearer(token_for(pending))).json["expertise"] == []
    assert client.get("/api/v1/help-offers").json["items"] == []

    for user in (create_user(town=LANNION, verified=True), create_user(granted=True)):
        headers = bearer(token_for(user))
        declared = client.put("/api/v1/me/expertise", json={"themes": [CYBER]},
                              headers=headers)
        assert (declared.status_code, declared.json["expertise"]) == (200, [CYBER])
        posted = client.post("/api/v1/help-offers", json=offer, headers=headers)
        assert (posted.status_code, posted.json["town"]) == (201, None)
    assert len(client.get("/api/v1/help-offers").json["items"]) == 2


def test_the_settings_page_lets_only_referents_declare(client, create_user, sign_in,
                                                       csrf) -> None:
    sign_in(create_user(town=LANNION))
    page = client.get("/settings").get_data(as_text=True)
    assert "une fois votre rattachement à une commune vérifié" in page
    assert 'action="/settings"' not in page
    refused = client.post("/settings", data={"csrf_token": csrf(), "themes": [CYBER]})
    assert refused.status_code == 403
    assert "verified members of a town" in refused.get_data(as_text=True)
    granted = create_user(granted=True)
    sign_in(granted)
    assert client.post("/settings", data={"csrf_token": csrf(), "themes": [CYBER]}
                       ).status_code == 303
    session.expire_all()
    assert [t.slug for t in session.get(User, granted.id).expertise] == [CYBER]
    offers = client.get("/help-offers").get_data(as_text=True)
    assert "Vous-même, comme référent·e" in offers
