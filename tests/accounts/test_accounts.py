"""Sign-up, sign-in, sign-out, CSRF and personal tokens."""

from __future__ import annotations

import sqlalchemy as sa

from maillage.accounts.models import ApiToken, Scope, TownMembership, User
from maillage.database import session, transaction, utcnow


def users_count() -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(User))


def test_sign_up_creates_an_account_with_a_pending_membership(client, csrf) -> None:
    response = client.post("/sign-up", data={
        "csrf_token": csrf(), "email": "Agent@Lannion.fr", "display_name": "Agent",
        "password": "correct horse battery", "town": "22113", "role": "agent",
    })
    assert response.status_code == 303
    user = session.scalar(sa.select(User).where(User.email == "agent@lannion.fr"))
    assert user.password_hash.startswith("$argon2id$")
    [membership] = user.memberships
    assert (membership.town_insee, membership.role.value, membership.verified) == \
        ("22113", "agent", False)
    assert client.get("/api/v1/me").json["email"] == "agent@lannion.fr"


def test_sign_up_refuses_bad_input_field_by_field_and_creates_nothing(client, csrf,
                                                                      create_user) -> None:
    create_user("taken@example.org")
    before = users_count()
    response = client.post("/sign-up", data={
        "csrf_token": csrf(), "email": "not an address", "display_name": "",
        "password": "short", "town": "99999x",
    })
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for field in ("email", "display_name", "password", "town"):
        assert f'id="{field}-error"' in page
    assert 'aria-invalid="true"' in page
    response = client.post("/sign-up", data={
        "csrf_token": csrf(), "email": "TAKEN@example.org", "display_name": "X",
        "password": "long enough password",
    })
    assert response.status_code == 422
    assert "already uses this address" in response.get_data(as_text=True)
    response = client.post("/sign-up", data={
        "csrf_token": csrf(), "email": "new@example.org", "display_name": "X",
        "password": "long enough password", "town": "00000", "role": "agent",
    })
    assert response.status_code == 422
    assert "No town has the INSEE code 00000" in response.get_data(as_text=True)
    assert users_count() == before


def test_sign_in_and_out(client, csrf, create_user) -> None:
    create_user("mayor@example.org", password="the right password")
    token = csrf()
    wrong = client.post("/sign-in", data={"csrf_token": token, "email": "mayor@example.org",
                                          "password": "a wrong password"})
    assert wrong.status_code == 422
    assert client.get("/api/v1/me").status_code == 401
    right = client.post("/sign-in", data={"csrf_token": token, "email": "MAYOR@example.org",
                                          "password": "the right password",
                                          "next": "/towns/22113"})
    assert (right.status_code, right.headers["Location"]) == (303, "/towns/22113")
    assert client.get("/api/v1/me").json["email"] == "mayor@example.org"
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 303
    assert client.get("/api/v1/me").status_code == 401


def test_sign_in_never_redirects_to_another_site(client, csrf, create_user) -> None:
    create_user("mayor@example.org", password="the right password")
    for target in ("https://evil.example", "//evil.example", "/\\evil.example", "javascript:x"):
        response = client.post("/sign-in", data={
            "csrf_token": csrf(), "email": "mayor@example.org",
            "password": "the right password", "next": target,
        })
        assert response.headers["Location"] == "/", target


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(client) -> None:
    before = users_count()
    response = client.post("/sign-up", data={"email": "a@example.org", "display_name": "A",
                                             "password": "long enough password"})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert users_count() == before


def test_a_cookie_authenticated_api_write_needs_the_csrf_header(client, csrf, sign_in,
                                                                create_user) -> None:
    user = create_user(town="22113", verified=True)  # who may declare expertise
    sign_in(user)
    refused = client.put("/api/v1/me/expertise", json={"themes": ["cybersecurite"]})
    assert refused.status_code == 400
    assert refused.is_json
    assert "CSRF" in refused.json["message"]
    assert session.get(User, user.id).expertise == []
    accepted = client.put("/api/v1/me/expertise", json={"themes": ["cybersecurite"]},
                          headers={"X-CSRFToken": csrf()})
    assert accepted.status_code == 200
    assert accepted.json["expertise"] == ["cybersecurite"]


def test_tokens_authenticate_and_scope_what_they_may_do(client, create_user,
                                                        token_for) -> None:
    user = create_user(town="22113", verified=True)  # who may declare expertise
    read, write = token_for(user, Scope.READ), token_for(user, Scope.WRITE)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {read}"}).json["id"] \
        == user.id
    refused = client.put("/api/v1/me/expertise", json={"themes": ["resilience"]},
                         headers={"Authorization": f"Bearer {read}"})
    assert refused.status_code == 403
    assert "read" in refused.json["message"]
    assert session.get(User, user.id).expertise == []
    accepted = client.put("/api/v1/me/expertise", json={"themes": ["resilience"]},
                          headers={"Authorization": f"Bearer {write}"})
    assert accepted.status_code == 200
    stored = session.scalars(sa.select(ApiToken.token_hash)).all()
    assert read not in stored
    assert write not in stored
    assert all(len(digest) == 64 for digest in stored)


def test_unknown_malformed_and_revoked_tokens_are_refused(client, create_user,
                                                         token_for) -> None:
    secret = token_for(create_user())
    for header in ("Bearer nope", "Bearer ", "Basic abc", secret):
        response = client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.is_json
    with transaction():
        session.execute(sa.update(ApiToken).values(revoked_at=utcnow()))
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401


def test_joining_a_town_through_the_api(client, create_user, token_for) -> None:
    user = create_user()
    headers = {"Authorization": f"Bearer {token_for(user)}"}
    created = client.post("/api/v1/towns/29103/memberships", json={"role": "referent"},
                          headers=headers)
    assert created.status_code == 201
    assert created.json["town"] == {"insee": "29103", "name": "Landerneau"}
    assert created.json["verified"] is False
    again = client.post("/api/v1/towns/29103/memberships", json={"role": "agent"},
                        headers=headers)
    assert again.status_code == 409
    assert client.post("/api/v1/towns/00000/memberships", json={"role": "agent"},
                       headers=headers).status_code == 404
    bad = client.post("/api/v1/towns/29103/memberships", json={"role": "mayor"},
                      headers=headers)
    assert bad.status_code == 422
    assert "role" in bad.json["errors"]["json"]
    assert session.scalar(sa.select(sa.func.count()).select_from(TownMembership)) == 1
