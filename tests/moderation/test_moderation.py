"""Reports by anyone signed in; hiding, restoring and dismissing by moderators, audited."""

from __future__ import annotations

import sqlalchemy as sa

from maillage.accounts.models import User
from maillage.database import session, transaction
from maillage.initiatives.models import Initiative
from maillage.initiatives.operations import comment_on
from maillage.moderation.models import AuditEntry, Report
from maillage.moderation.operations import hide
from maillage.notifications.models import Notification
from tests.support.api import bearer
from tests.support.initiatives import VALID


def published(client, create_user, token_for) -> tuple[int, int, dict[str, str]]:
    """An initiative of Lannion with a comment; the author's headers."""
    author = bearer(token_for(create_user(town="22113", verified=True)))
    initiative = client.post("/api/v1/initiatives", json=VALID, headers=author).json["id"]
    comment = client.post(f"/api/v1/initiatives/{initiative}/comments",
                          json={"body": "Bien vu."}, headers=author).json["id"]
    return initiative, comment, author


def test_report_hide_restore_with_an_audit_log(client, create_user, token_for) -> None:
    initiative, comment, _author = published(client, create_user, token_for)
    reader = bearer(token_for(create_user()))
    moderator_user = create_user(moderator=True)
    moderator = bearer(token_for(moderator_user))

    reported = client.post("/api/v1/reports", json={"kind": "comment", "target_id": comment,
                                                    "reason": "Hors sujet"}, headers=reader)
    assert reported.status_code == 201
    assert client.post("/api/v1/reports", json={"kind": "comment", "target_id": comment,
                                                "reason": "Encore"},
                       headers=reader).status_code == 409
    assert client.get("/api/v1/reports", headers=reader).status_code == 403
    [listed] = client.get("/api/v1/reports", headers=moderator).json
    assert (listed["kind"], listed["target_id"], listed["reason"]) == \
        ("comment", comment, "Hors sujet")

    hidden = client.post(f"/api/v1/moderation/comment/{comment}/hide",
                         json={"note": "Règle 2"}, headers=moderator)
    assert hidden.status_code == 200
    assert client.get("/api/v1/reports", headers=moderator).json == []
    page = client.get(f"/initiatives/{initiative}").get_data(as_text=True)
    assert "Bien vu." not in page

    assert client.post(f"/api/v1/moderation/comment/{comment}/restore", json={},
                       headers=moderator).status_code == 200
    assert "Bien vu." in client.get(f"/initiatives/{initiative}").get_data(as_text=True)

    audit = client.get("/api/v1/moderation/audit", headers=moderator).json
    assert [(e["action"], e["kind"], e["target_id"], e["actor"]["id"]) for e in audit] == [
        ("restore", "comment", comment, moderator_user.id),
        ("hide", "comment", comment, moderator_user.id)]
    assert audit[1]["note"] == "Règle 2"
    assert session.scalar(sa.select(Report.resolved_by_id)) == moderator_user.id


def test_only_moderators_hide_and_a_refusal_changes_nothing(client, create_user,
                                                            token_for) -> None:
    initiative, _comment, author = published(client, create_user, token_for)
    for headers in (author, bearer(token_for(create_user()))):
        response = client.post(f"/api/v1/moderation/initiative/{initiative}/hide", json={},
                               headers=headers)
        assert response.status_code == 403
    assert client.get(f"/api/v1/initiatives/{initiative}").status_code == 200
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


def test_hidden_content_is_unseen_and_never_notified(client, create_user, token_for) -> None:
    initiative_id, _comment, author = published(client, create_user, token_for)
    follower = create_user()
    client.put(f"/api/v1/follows/initiative/{initiative_id}",
               headers=bearer(token_for(follower)))
    queues = client.application.extensions["maillage.queues"]

    def notified() -> int:
        assert queues.join(timeout=30)
        return session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
            Notification.user_id == follower.id))

    before = notified()  # the setup's own events, whenever they were processed
    client.post(f"/api/v1/initiatives/{initiative_id}/comments", json={"body": "Suite."},
                headers=author)
    assert notified() == before + 1, "a comment on a visible initiative reaches its followers"
    moderator = create_user(moderator=True)
    with transaction():
        # Commented, then hidden before any worker ran: the event's fan-out finds it hidden.
        initiative = session.get(Initiative, initiative_id)
        comment_on(initiative.author, initiative, "Dernier mot.")
        hide(session.get(User, moderator.id), "initiative", initiative_id)
    # Hiding withdrew every notification about the initiative, the setup's included; the
    # fan-out of the last comment, after the commit, found it hidden and added none.
    assert notified() == 0
    assert client.get(f"/api/v1/initiatives/{initiative_id}").status_code == 404
    listed = client.get("/api/v1/initiatives").json["items"]
    assert initiative_id not in [i["id"] for i in listed]


def test_reports_refuse_unknown_kinds_and_hidden_or_missing_content(client, create_user,
                                                                    token_for) -> None:
    reader = bearer(token_for(create_user()))
    assert client.post("/api/v1/reports", json={"kind": "town", "target_id": 1,
                                                "reason": "x"}, headers=reader).status_code == 422
    assert client.post("/api/v1/reports", json={"kind": "initiative", "target_id": 999999,
                                                "reason": "x"}, headers=reader).status_code == 404
    assert client.post("/api/v1/reports", json={"kind": "initiative", "target_id": 1,
                                                "reason": "x"}).status_code == 401


def test_the_moderation_page(client, create_user, sign_in, csrf, token_for) -> None:
    initiative, _comment, _author = published(client, create_user, token_for)
    reader = create_user()
    sign_in(reader)
    assert client.get("/moderation").status_code == 403
    assert client.post("/reports", data={"csrf_token": csrf(), "kind": "initiative",
                                         "target_id": initiative,
                                         "reason": "Publicité"}).status_code == 303
    sign_in(create_user(moderator=True))
    page = client.get("/moderation").get_data(as_text=True)
    assert "Publicité" in page
    assert client.post(f"/moderation/initiative/{initiative}/hide",
                       data={"csrf_token": csrf()}).status_code == 303
    assert "Aucun signalement en attente" in client.get("/moderation").get_data(as_text=True)


def test_hiding_withdraws_the_notifications_about_it(client, create_user, token_for,
                                                     wait) -> None:
    follower = bearer(token_for(create_user()))
    moderator = bearer(token_for(create_user(moderator=True)))
    commented = []
    for _ in range(2):
        initiative, _comment, author = published(client, create_user, token_for)
        wait()  # followers are those of when an event is processed: not this one's
        client.put(f"/api/v1/follows/initiative/{initiative}", headers=follower)
        comment = client.post(f"/api/v1/initiatives/{initiative}/comments",
                              json={"body": "Suite."}, headers=author).json["id"]
        commented.append((initiative, comment))
    wait()

    def about() -> list[str]:
        items = client.get("/api/v1/notifications", headers=follower).json["items"]
        return sorted(item["link"] for item in items)

    assert about() == sorted(f"/initiatives/{initiative}" for initiative, _ in commented)
    (_first, first_comment), (second, _second_comment) = commented
    client.post(f"/api/v1/moderation/comment/{first_comment}/hide", json={}, headers=moderator)
    assert about() == [f"/initiatives/{second}"]
    client.post(f"/api/v1/moderation/initiative/{second}/hide", json={}, headers=moderator)
    assert about() == []
    assert client.get("/api/v1/notifications/unread-count", headers=follower).json == \
        {"count": 0, "capped": False}
    # Restored, the initiative is seen again, but what was withdrawn stays so.
    client.post(f"/api/v1/moderation/initiative/{second}/restore", json={}, headers=moderator)
    assert about() == []


def test_an_offer_of_help_is_reported_hidden_and_gone_for_others(client, create_user,
                                                                 token_for, sign_in,
                                                                 csrf) -> None:
    author = bearer(token_for(create_user(town="22113", verified=True)))
    offer = client.post("/api/v1/help-offers", headers=author, json={
        "town": "22113", "title": "Nos rubans à prix cassés", "body": "Achetez nos rubans.",
        "themes": ["cybersecurite"]}).json["id"]
    asked = client.post("/api/v1/help-requests", headers=bearer(token_for(
        create_user(town="29232", verified=True))), json={
        "town": "29232", "title": "Sécuriser nos messageries", "body": "Comment ?",
        "themes": ["cybersecurite"]}).json["id"]
    assert [o["id"] for o in client.get(f"/api/v1/help-requests/{asked}").json["offers"]] \
        == [offer]
    reader = create_user()
    sign_in(reader)
    page = client.get("/help-offers").get_data(as_text=True)
    assert f'id="reason-help-offer-{offer}"' in page
    assert 'name="kind" value="help-offer"' in \
        client.get(f"/help-requests/{asked}").get_data(as_text=True)
    assert client.post("/reports", data={"csrf_token": csrf(), "kind": "help-offer",
                                         "target_id": offer,
                                         "reason": "Publicité"}).status_code == 303

    api = client.application.test_client()  # without the reader's cookie, which would win
    moderator = bearer(token_for(create_user(moderator=True)))
    [listed] = api.get("/api/v1/reports", headers=moderator).json
    assert (listed["kind"], listed["target_id"]) == ("help-offer", offer)
    assert api.post(f"/api/v1/moderation/help-offer/{offer}/hide", json={},
                       headers=moderator).status_code == 200
    for headers in ({}, bearer(token_for(reader)), moderator):
        assert api.get("/api/v1/help-offers", headers=headers).json["items"] == []
        assert api.get(f"/api/v1/help-requests/{asked}", headers=headers).json["offers"] == []
    assert "Nos rubans" not in client.get("/help-offers").get_data(as_text=True)
    assert "Nos rubans" not in client.get(f"/help-requests/{asked}").get_data(as_text=True)
    # Hidden, it is reported no more; the moderators read it on their page, to restore it.
    assert api.post("/api/v1/reports", json={"kind": "help-offer", "target_id": offer,
                                             "reason": "Encore"},
                    headers=bearer(token_for(reader))).status_code == 404
    sign_in(create_user(moderator=True))
    page = client.get("/moderation").get_data(as_text=True)
    assert f'href="/help-offers#offre-{offer}"' in page
    assert "Achetez nos rubans." in page
    assert client.post(f"/moderation/help-offer/{offer}/restore",
                       data={"csrf_token": csrf()}).status_code == 303
    assert [o["id"] for o in client.get("/api/v1/help-offers").json["items"]] == [offer]
