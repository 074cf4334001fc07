"""The pages of help: list, ask, a request with its answers and accept button, offers,
and the settings page with expertise and the requests waiting for a referent."""

from __future__ import annotations

import sqlalchemy as sa

from maillage.accounts.models import Role, User
from maillage.database import session, transaction
from maillage.help import operations as help_operations
from maillage.help.models import HelpRequest, Status
from tests.support.users import declared_before_the_rule

LANNION, PERROS = "22113", "22168"


def test_asking_answering_and_accepting_through_the_pages(client, create_user, sign_in,
                                                         csrf) -> None:
    asker = create_user("asker@example.org", town=LANNION, verified=True)
    referent = create_user("ref@example.org", town=PERROS, verified=True, role=Role.REFERENT,
                           expertise=("cybersecurite",))
    sign_in(asker)
    assert "Demander de l'aide" in client.get("/help-requests/new").get_data(as_text=True)
    refused = client.post("/help-requests/new", data={
        "csrf_token": csrf(), "town": LANNION, "title": "", "body": "x"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'id="title-error"' in page
    assert 'id="themes-error"' in page
    assert session.scalar(sa.select(sa.func.count()).select_from(HelpRequest)) == 0

    asked = client.post("/help-requests/new", data={
        "csrf_token": csrf(), "town": LANNION, "title": "Sécuriser nos messageries",
        "body": "Du *hameçonnage*.", "themes": ["cybersecurite"]})
    assert asked.status_code == 303
    request_id = session.scalar(sa.select(HelpRequest.id))
    assert asked.headers["Location"] == f"/help-requests/{request_id}"
    assert "Sécuriser nos messageries" in client.get("/help-requests").get_data(as_text=True)

    sign_in(referent)
    settings = client.get("/settings").get_data(as_text=True)
    assert f'href="/help-requests/{request_id}"' in settings
    answered = client.post(f"/help-requests/{request_id}/answers",
                           data={"csrf_token": csrf(), "body": "Activez **DMARC**."})
    assert answered.status_code == 303
    shown = client.get(f"/help-requests/{request_id}").get_data(as_text=True)
    assert "<strong>DMARC</strong>" in shown
    assert "Référent·e" in shown
    assert "Cette réponse m'a aidé·e" not in shown

    sign_in(asker)
    shown = client.get(f"/help-requests/{request_id}").get_data(as_text=True)
    assert "Cette réponse m'a aidé·e" in shown
    answer_id = session.scalar(sa.text("SELECT id FROM help_answers"))
    accepted = client.post(f"/help-requests/{request_id}/answers/{answer_id}/accept",
                           data={"csrf_token": csrf()})
    assert accepted.status_code == 303
    session.expire_all()
    assert session.get(HelpRequest, request_id).status is Status.RESOLVED
    assert "Réponse retenue" in client.get(f"/help-requests/{request_id}").get_data(as_text=True)
    again = client.post(f"/help-requests/{request_id}/answers/{answer_id}/accept",
                        data={"csrf_token": csrf()})
    assert again.status_code == 409


def test_the_asker_closes_a_request_from_its_page(client, create_user, sign_in,
                                                 csrf) -> None:
    asker = create_user("asker@example.org", town=LANNION, verified=True)
    neighbour = create_user("voisin@example.org", town=PERROS, verified=True)
    with transaction():
        request_id = help_operations.ask_for_help(
            session.get(User, asker.id), town=LANNION, title="Un site accessible",
            body="Par où commencer ?", themes=["inclusion-numerique"]).id

    sign_in(neighbour)
    page = client.get(f"/help-requests/{request_id}").get_data(as_text=True)
    assert "Clore la demande" not in page
    assert client.post(f"/help-requests/{request_id}/close",
                       data={"csrf_token": csrf()}).status_code == 403

    sign_in(asker)
    assert "Clore la demande" in client.get(f"/help-requests/{request_id}").get_data(
        as_text=True)
    closed = client.post(f"/help-requests/{request_id}/close", data={"csrf_token": csrf()})
    assert closed.status_code == 303
    page = client.get(closed.headers["Location"]).get_data(as_text=True)
    assert "La demande est close" in page
    assert "Clore la demande" not in page
    assert f'action="/help-requests/{request_id}/answers"' not in page
    session.expire_all()
    assert session.get(HelpRequest, request_id).status is Status.CLOSED


def test_the_settings_page_sets_expertise(client, create_user, sign_in, csrf) -> None:
    user = create_user("ref@example.org", town=PERROS, verified=True)
    sign_in(user)
    assert client.post("/settings", data={"csrf_token": csrf(),
                                          "themes": ["resilience", "cybersecurite"]}
                       ).status_code == 303
    session.expire_all()
    assert [t.slug for t in session.get(User, user.id).expertise] == ["cybersecurite",
                                                                      "resilience"]
    page = client.get("/settings").get_data(as_text=True)
    assert 'value="resilience" checked' in page
    refused = client.post("/settings", data={"csrf_token": csrf(), "themes": ["nope"]})
    assert refused.status_code == 422
    assert "Unknown theme: nope" in refused.get_data(as_text=True)
    session.expire_all()
    assert len(session.get(User, user.id).expertise) == 2
    assert client.post("/settings", data={"csrf_token": csrf()}).status_code == 303
    session.expire_all()
    assert session.get(User, user.id).expertise == []


def test_offers_page_and_anonymous_visitors(client, create_user, sign_in, csrf) -> None:
    assert client.get("/settings").status_code in (302, 401)
    assert client.get("/help-requests/new").status_code in (302, 401)
    assert client.get("/help-requests?status=lost").status_code == 422
    assert client.get("/help-requests/424242").status_code == 404
    member = create_user("m@example.org", town=LANNION, verified=True)
    sign_in(member)
    posted = client.post("/help-offers", data={
        "csrf_token": csrf(), "town": LANNION, "title": "Nos démarches en ligne",
        "body": "Demandez-nous.", "themes": ["services-publics-en-ligne"]})
    assert posted.status_code == 303
    assert "Nos démarches en ligne" in client.get("/help-offers").get_data(as_text=True)
    refused = client.post("/help-offers", data={"csrf_token": csrf(), "town": LANNION,
                                                "title": "x"})
    assert refused.status_code == 422


def test_a_request_page_has_a_follow_button(client, create_user, sign_in, csrf) -> None:
    asker = create_user("asker@example.org", town=LANNION, verified=True)
    sign_in(asker)
    client.post("/help-requests/new", data={
        "csrf_token": csrf(), "town": LANNION, "title": "Un portail citoyen",
        "body": "Lequel choisir ?", "themes": ["services-publics-en-ligne"]})
    request_id = session.scalar(sa.select(HelpRequest.id))
    assert "Ne plus suivre cette demande" in \
        client.get(f"/help-requests/{request_id}").get_data(as_text=True)

    sign_in(create_user("curious@example.org"))
    assert "Suivre cette demande" in \
        client.get(f"/help-requests/{request_id}").get_data(as_text=True)
    followed = client.post(f"/follows/help-request/{request_id}/follow",
                           data={"csrf_token": csrf()}, follow_redirects=True)
    assert "Vous suivez désormais cette demande." in followed.get_data(as_text=True)
    assert "Ne plus suivre cette demande" in followed.get_data(as_text=True)


def test_theme_and_town_pages_show_requests_and_the_referents_they_reach(client,
                                                                         create_user) -> None:
    asker = create_user("asker@example.org", town=LANNION, verified=True)
    create_user("Claire@example.org", town=PERROS, verified=True, role=Role.REFERENT,
                expertise=("cybersecurite",))
    declared_before_the_rule(create_user("Pending@example.org", town=PERROS,
                                         role=Role.REFERENT), "cybersecurite")
    create_user("Other@example.org", town=PERROS, verified=True, role=Role.REFERENT,
                expertise=("donnees-ouvertes",))
    with transaction():
        asked = help_operations.ask_for_help(
            session.get(User, asker.id), town=LANNION, title="Sécuriser nos messageries",
            body="Du hameçonnage.", themes=["cybersecurite"]).id

    theme = client.get("/themes/cybersecurite").get_data(as_text=True)
    assert f'href="/help-requests/{asked}"' in theme
    referents = theme[theme.index('id="referents"'):]
    assert "Claire" in referents
    assert f'href="/towns/{PERROS}"' in referents
    assert "Pending" not in referents  # not verified: a request does not reach them
    assert "Other" not in referents
    assert f'href="/help-requests/{asked}"' not in \
        client.get("/themes/donnees-ouvertes").get_data(as_text=True)

    assert f'href="/help-requests/{asked}"' in client.get(f"/towns/{LANNION}").get_data(
        as_text=True)
    assert f'href="/help-requests/{asked}"' not in client.get(f"/towns/{PERROS}").get_data(
        as_text=True)
    listed = client.get(f"/api/v1/help-requests?town={LANNION}").json["items"]
    assert [item["id"] for item in listed] == [asked]
    assert client.get(f"/api/v1/help-requests?town={PERROS}").json["items"] == []
    refused = client.get("/api/v1/help-requests?town=lannion")
    assert refused.status_code == 422
    assert refused.json["errors"]["query"]["town"] == ["Not an INSEE code."]
