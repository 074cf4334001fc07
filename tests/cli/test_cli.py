"""The `maillage` command line: users, tokens, the demo, and help that explains itself."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask.cli import ScriptInfo

from maillage.accounts.models import ReferentGrant, User
from maillage.cli import main
from maillage.database import session
from tests.support.api import bearer


@pytest.fixture
def run(app):
    """Run a `maillage` command against the test app; return its result."""

    def invoke(*args: str, input: str | None = None):
        return CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app),
                                  input=input)

    return invoke


def test_help_explains_every_command(run) -> None:
    result = run("--help")
    for command in ("serve", "db", "import-communes", "demo", "users", "tokens"):
        assert command in result.output
    assert "--app" not in result.output
    for command in (["users", "create"], ["users", "grant-referent"],
                    ["users", "revoke-referent"], ["tokens", "create"], ["import-communes"],
                    ["serve"], ["db", "upgrade"]):
        result = run(*command, "--help")
        assert result.exit_code == 0
        assert "Usage:" in result.output


def test_users_create_with_a_verified_town_and_expertise(run) -> None:
    result = run("users", "create", "Ref@Example.org", "--name", "Référente",
                 "--password", "a long password", "--town", "29103", "--role", "referent",
                 "--verified", "--expertise", "cybersecurite,resilience")
    assert result.exit_code == 0, result.output
    user = session.scalar(sa.select(User).where(User.email == "ref@example.org"))
    assert user.display_name == "Référente"
    [membership] = user.memberships
    assert (membership.town_insee, membership.role.value, membership.verified,
            membership.verification_source.value) == ("29103", "referent", True, "admin")
    assert [t.slug for t in user.expertise] == ["cybersecurite", "resilience"]


def test_users_create_asks_for_the_password_when_told_to(run) -> None:
    result = run("users", "create", "admin@example.org", "--admin", "--password",
                 input="a long password\na long password\n")
    assert result.exit_code == 0, result.output
    user = session.scalar(sa.select(User).where(User.email == "admin@example.org"))
    assert user.is_admin
    assert user.password_hash.startswith("$argon2")


def test_users_create_refuses_bad_input_and_creates_nothing(run) -> None:
    cases = [
        (["x@example.org", "--town", "29103"], "--town and --role go together"),
        (["x@example.org", "--verified"], "--verified needs --town"),
        (["x@example.org", "--town", "00000", "--role", "agent"], "No town has the INSEE"),
        (["x@example.org", "--town", "29103", "--role", "referent", "--verified",
          "--expertise", "nope"], "Unknown theme: nope"),
        (["x@example.org", "--role", "mayor", "--town", "29103"], "Invalid value for '--role'"),
    ]
    for args, message in cases:
        result = run("users", "create", *args)
        assert result.exit_code != 0
        assert message in result.output, result.output
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_users_grant_referent_lets_someone_of_no_town_declare_expertise(
        run, client, create_user, token_for) -> None:
    expert = create_user("expert@anssi.example")
    admin = create_user("admin@example.org", admin=True)
    headers = bearer(token_for(expert))
    expertise = {"themes": ["cybersecurite"]}
    assert client.put("/api/v1/me/expertise", json=expertise, headers=headers).status_code == 403
    assert "an expert of a partner body" in " ".join(
        run("users", "grant-referent", "--help").output.split())

    refused = run("users", "grant-referent", "expert@anssi.example", "--by",
                  "expert@anssi.example")
    assert (refused.exit_code, "Only admins" in refused.output) == (1, True)
    assert run("users", "grant-referent", "nobody@example.org").exit_code == 1
    granted = run("users", "grant-referent", "Expert@anssi.example", "--by",
                  "admin@example.org")
    assert granted.exit_code == 0, granted.output
    grant = session.get(ReferentGrant, expert.id)
    assert grant.granted_by_id == admin.id
    assert "already" in run("users", "grant-referent", "expert@anssi.example").output
    declared = client.put("/api/v1/me/expertise", json=expertise, headers=headers)
    assert (declared.status_code, declared.json["expertise"]) == (200, ["cybersecurite"])

    revoked = run("users", "revoke-referent", "expert@anssi.example")
    assert revoked.exit_code == 0, revoked.output
    assert run("users", "revoke-referent", "expert@anssi.example").exit_code == 1
    assert client.put("/api/v1/me/expertise", json=expertise, headers=headers).status_code == 403
    assert client.post("/api/v1/help-offers", headers=headers, json={
        "title": "Sécurité", "body": "Demandez.", "themes": ["cybersecurite"]}).status_code == 403


def test_tokens_create_prints_a_working_token(run, client, create_user) -> None:
    create_user("api@example.org")
    result = run("tokens", "create", "api@example.org", "--scope", "read")
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.json["email"] == "api@example.org"
    assert run("tokens", "create", "nobody@example.org", "--scope", "read").exit_code != 0


def test_the_demo_loads_once(run, client, csrf) -> None:
    first = run("demo")
    assert first.exit_code == 0, first.output
    assert "password: maillage-demo" in first.output
    count = session.scalar(sa.select(sa.func.count()).select_from(User))
    assert count == 7
    again = run("demo")
    assert again.exit_code == 0
    session.remove()
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == count
    requests = client.get("/api/v1/help-requests").json["items"]
    assert sorted(r["status"] for r in requests) == ["answered", "open"]
    assert len(client.get("/api/v1/help-offers").json["items"]) == 1
    # Three demo towns of a band recorded what the printers cost them: the figure shows.
    costs = client.get("/api/v1/figures/costs?theme=sobriete-numerique").json["rows"]
    assert [row["towns"] for row in costs] == [3]
    # Its specification and a chart of its results are attached, once.
    [printers] = [i for i in client.get("/api/v1/initiatives").json["items"]
                  if i["title"] == "Un parc d'imprimantes divisé par deux"]
    assert [f["content_type"] for f in printers["files"]] == ["application/pdf", "image/png"]
    with client.get(printers["files"][0]["url"]) as pdf:
        assert pdf.get_data().startswith(b"%PDF-")
    signed_in = client.post("/sign-in", data={"csrf_token": csrf(),
                                              "email": "admin@maillage.localhost",
                                              "password": "maillage-demo"})
    assert signed_in.status_code == 303
    assert client.get("/api/v1/me").json["is_admin"] is True
