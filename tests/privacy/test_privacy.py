"""Personal data: the export holds everything about the person; deletion keeps their work."""

from __future__ import annotations

import json

import sqlalchemy as sa

from maillage.accounts.models import ApiToken, Scope, TownMembership, User
from maillage.database import Base, session, transaction
from maillage.emails.models import Subscription, subscription_themes, subscription_towns
from maillage.follows.models import Follow
from maillage.initiatives.models import Comment, Initiative
from maillage.mail.models import FailingAddress
from maillage.mail.operations import mark_failing
from maillage.notifications.models import Notification
from maillage.privacy.queries import person_columns
from tests.support.api import bearer
from tests.support.initiatives import VALID

PASSWORD = "the right password"



def active_person(client, create_user, token_for):
    """A verified member of Lannion who published, commented and follows."""
    user = create_user("anne@lannion.fr", password=PASSWORD, town="22113", verified=True)
    headers = bearer(token_for(user, Scope.WRITE))
    initiative = client.post("/api/v1/initiatives", json=VALID, headers=headers).json
    client.post(f"/api/v1/initiatives/{initiative['id']}/comments",
                json={"body": "Et ça marche."}, headers=headers)
    client.put("/api/v1/follows/town/29232", headers=headers)
    return user, headers, initiative["id"]


def test_the_export_holds_every_row_about_the_person_and_no_secret(
        client, create_user, token_for) -> None:
    user, headers, initiative_id = active_person(client, create_user, token_for)
    other = create_user(town="29232")
    client.put("/api/v1/follows/town/29232", headers=bearer(token_for(other)))
    response = client.get("/api/v1/me/export", headers=headers)
    assert response.status_code == 200
    data = response.json
    assert data["account"]["email"] == "anne@lannion.fr"
    assert "password_hash" not in data["account"]
    assert "session_secret" not in data["account"], "a secret that signs in is no data"
    tables = data["tables"]
    assert [row["id"] for row in tables["initiatives"]["author_id"]] == [initiative_id]
    assert [row["body"] for row in tables["comments"]["author_id"]] == ["Et ça marche."]
    assert {row["town_insee"] for row in tables["follows"]["user_id"]} >= {"29232"}
    assert [row["town_insee"] for row in tables["town_memberships"]["user_id"]] == ["22113"]
    assert len(tables["api_tokens"]["user_id"]) == 1
    assert "token_hash" not in tables["api_tokens"]["user_id"][0]
    assert {row["kind"] for row in tables["events"]["actor_id"]} >= {"initiative.published"}
    for by_column in tables.values():
        for column, rows in by_column.items():
            assert {row[column] for row in rows} == {user.id}, "nobody else's rows"
    assert client.get("/api/v1/me/export").status_code == 401


def test_deleting_needs_the_password_and_a_refusal_changes_nothing(
        client, create_user, token_for) -> None:
    user, headers, _ = active_person(client, create_user, token_for)
    for body in ({}, {"password": "a wrong password"}):
        response = client.delete("/api/v1/me", json=body, headers=headers)
        assert response.status_code == 422
        assert "password" in response.json["errors"]["json"]
    assert session.get(User, user.id) is not None
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_deleting_keeps_contributions_for_the_town_without_the_name(
        client, create_user, token_for) -> None:
    user, headers, initiative_id = active_person(client, create_user, token_for)
    user_id = user.id
    assert client.delete("/api/v1/me", json={"password": PASSWORD},
                         headers=headers).status_code == 204
    session.expire_all()
    assert session.get(User, user_id) is None
    for model in (TownMembership, ApiToken, Follow):
        assert session.scalar(sa.select(sa.func.count()).select_from(model)) == 0, model
    initiative = session.get(Initiative, initiative_id)
    assert (initiative.town_insee, initiative.author_id) == ("22113", None)
    assert session.scalar(sa.select(Comment.author_id)) is None
    shown = client.get(f"/api/v1/initiatives/{initiative_id}").json
    assert (shown["author"], shown["town"]["insee"]) == (None, "22113")
    page = client.get(f"/initiatives/{initiative_id}").get_data(as_text=True)
    assert "Anne" not in page
    assert "Lannion" in page
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_deleting_takes_the_notifications_of_the_account_and_no_other(
        client, create_user, token_for, wait) -> None:
    """Notifications have no foreign key (a fan-out would check one per row): their column
    is marked as an account's id, which the export and the deletion follow as a key."""
    user, headers, _ = active_person(client, create_user, token_for)
    other = create_user("bruno@lannion.fr", town="22113", verified=True)
    other_headers = bearer(token_for(other, Scope.WRITE))
    assert client.put("/api/v1/follows/town/29232", headers=other_headers).status_code < 300
    author = create_user("carole@brest.fr", town="29232", verified=True)
    assert client.post("/api/v1/initiatives", json=VALID | {"town": "29232"},
                       headers=bearer(token_for(author, Scope.WRITE))).status_code == 201
    wait()

    def count(person_id: int) -> int:
        return session.scalar(sa.select(sa.func.count()).select_from(Notification)
                              .where(Notification.user_id == person_id))

    user_id = user.id
    assert count(user_id) >= 1
    assert count(other.id) >= 1
    exported = client.get("/api/v1/me/export", headers=headers).json
    mine = exported["tables"]["notifications"]["user_id"]
    assert len(mine) == count(user_id)
    assert {row["user_id"] for row in mine} == {user_id}
    assert client.delete("/api/v1/me", json={"password": PASSWORD},
                         headers=headers).status_code == 204
    session.expire_all()
    assert count(user_id) == 0
    assert count(other.id) >= 1
    assert client.get("/api/v1/notifications", headers=other_headers).json


def test_the_account_page_exports_and_deletes(client, create_user, sign_in, csrf) -> None:
    user = create_user("paul@example.org", password=PASSWORD)
    user_id = user.id
    sign_in(user)
    assert "Supprimer définitivement" in client.get("/account").get_data(as_text=True)
    download = client.get("/account/export")
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert json.loads(download.get_data(as_text=True))["account"]["id"] == user.id
    wrong = client.post("/account/delete", data={"csrf_token": csrf(), "password": "nope"})
    assert wrong.status_code == 422
    assert session.get(User, user.id) is not None
    right = client.post("/account/delete", data={"csrf_token": csrf(), "password": PASSWORD})
    assert right.status_code == 303
    session.expire_all()
    assert session.get(User, user_id) is None
    assert client.get("/account").status_code == 302


def test_an_account_without_password_confirms_with_its_address(client, create_user,
                                                               token_for) -> None:
    user = create_user("oidc@lannion.fr")
    user_id = user.id
    headers = bearer(token_for(user))
    refused = client.delete("/api/v1/me", json={"email": "other@lannion.fr"}, headers=headers)
    assert refused.status_code == 422
    assert client.delete("/api/v1/me", json={"email": "OIDC@lannion.fr"},
                         headers=headers).status_code == 204
    session.expire_all()
    assert session.get(User, user_id) is None


def kept_by_address(client) -> None:
    """Email-only subscriptions of anne@lannion.fr (typed otherwise) and of someone else, and
    both addresses failing."""
    for email in ("Anne@Lannion.fr", "voisin@lannion.fr"):
        assert client.post("/api/v1/subscriptions", json={
            "email": email, "themes": ["cybersecurite"], "towns": ["22113"]}).status_code == 202
    with transaction():
        mark_failing("anne@lannion.fr", 550, "5.1.1 Mailbox full for good")
        mark_failing("voisin@lannion.fr", 550, "5.1.1 No such user")


def test_the_export_holds_what_is_kept_by_the_address(client, create_user, token_for) -> None:
    _user, headers, _ = active_person(client, create_user, token_for)
    kept_by_address(client)
    tables = client.get("/api/v1/me/export", headers=headers).json["tables"]
    [subscription] = tables["subscriptions"]["email"]
    assert (subscription["email"], subscription["frequency"]) == ("anne@lannion.fr", "weekly")
    assert "secret" not in subscription, "its links' secret stays out of the export"
    [theme] = tables["subscription_themes"]["subscription_id"]
    [town] = tables["subscription_towns"]["subscription_id"]
    assert (theme["subscription_id"], town["subscription_id"], town["town_insee"]) == \
        (subscription["id"], subscription["id"], "22113")
    [failing] = tables["failing_addresses"]["email"]
    assert (failing["email"], failing["code"]) == ("anne@lannion.fr", 550)
    exported = repr(tables)
    assert "voisin" not in exported
    assert "_hash" not in exported


def test_deleting_removes_what_is_kept_by_the_address(client, create_user, token_for) -> None:
    _user, headers, _ = active_person(client, create_user, token_for)
    kept_by_address(client)
    assert client.delete("/api/v1/me", json={"password": PASSWORD},
                         headers=headers).status_code == 204
    session.expire_all()
    assert session.scalars(sa.select(Subscription.email)).all() == ["voisin@lannion.fr"]
    assert session.scalars(sa.select(FailingAddress.email)).all() == ["voisin@lannion.fr"]
    [kept] = session.scalars(sa.select(Subscription.id)).all()
    for table in (subscription_themes, subscription_towns):
        assert session.scalars(sa.select(table.c.subscription_id)).all() == [kept]


def test_every_column_of_an_account_id_is_exported_and_deleted_with_it() -> None:
    """A `user_id` with neither a foreign key nor `database.PERSON` would be left out of the
    export and left behind by the deletion."""
    known = set(person_columns())
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if column.name == "user_id" or column.name.endswith("_user_id"):
                assert column in known, f"{table.name}.{column.name}"
