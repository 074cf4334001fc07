"""The `maillage` command line: users, tokens, the demo, and help that explains itself."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask.cli import ScriptInfo

from maillage.accounts.models import ReferentGrant, User
from maillage.cli import main
from maillage.database import Base, session
from maillage.initiatives.models import Initiative, Replication
from maillage.networks.models import NetworkMembership
from maillage.notifications.models import Notification
from maillage.towns.models import Town
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


def _row_counts() -> dict[str, int]:
    return {table.name: session.scalar(sa.select(sa.func.count()).select_from(table))
            for table in Base.metadata.sorted_tables}


def _help_state(request: dict) -> str:
    if request["status"] != "open":
        return {"resolved": "accepted"}.get(request["status"], request["status"])
    if request["claim"] is not None:
        return "claimed"
    return "escalated" if request["escalated_at"] else "routed"


def test_the_demo_shows_the_network_as_it_will_be_and_loads_once(run, client, csrf) -> None:
    first = run("demo")
    assert first.exit_code == 0, first.output
    assert "password: maillage-demo" in first.output
    session.remove()
    # Forty real towns of the band, of several regions, in two networks with label awards.
    towns = session.execute(sa.select(Town.insee, Town.region_code, Town.population)
                            .join(NetworkMembership).distinct()).all()
    assert len(towns) >= 40
    assert len({town.region_code for town in towns}) >= 3
    assert all(2_500 <= town.population <= 25_000 for town in towns)
    assert {n["slug"] for n in client.get("/api/v1/networks").json} == {"apvf",
                                                                       "villes-internet"}
    lannion = client.get("/api/v1/towns/22113").json
    assert {n["slug"] for n in lannion["networks"]} == {"apvf", "villes-internet"}
    assert lannion["label_awards"]
    # Initiatives of every theme, some done by other towns too.
    initiatives = client.get("/api/v1/initiatives?limit=100").json["items"]
    assert len(initiatives) >= 60
    themes = {theme["slug"] for theme in client.get("/api/v1/themes").json}
    assert {slug for i in initiatives for slug in i["themes"]} == themes
    assert session.scalar(sa.select(sa.func.count()).select_from(Replication)) >= 30
    # Help requests in each state of their way, and offers.
    requests = client.get("/api/v1/help-requests?limit=100").json["items"]
    assert {_help_state(r) for r in requests} == {"routed", "escalated", "claimed", "answered",
                                                  "accepted", "closed"}
    assert len(client.get("/api/v1/help-offers").json["items"]) >= 3
    # What it cost towns like mine shows, for the printers (three towns of a band) and more.
    costs = client.get("/api/v1/figures/costs").json["rows"]
    assert [row["towns"] for row in costs if row["theme"] == "sobriete-numerique"] == [3]
    assert all(row["towns"] >= 3 for row in costs)
    # Every figure has something to show, a security incident included.
    for figure in client.get("/api/v1/figures").json:
        assert client.get(f"/api/v1/figures/{figure['name']}").json["rows"], figure["name"]
    assert client.get("/api/v1/figures/incidents").json["rows"][0]["requests"] == 1
    # The printers' specification and a chart of its results are attached.
    [printers] = [i for i in initiatives if i["title"] == "Un parc d'imprimantes divisé par deux"]
    assert [f["content_type"] for f in printers["files"]] == ["application/pdf", "image/png"]
    with client.get(printers["files"][0]["url"]) as pdf:
        assert pdf.get_data().startswith(b"%PDF-")
    # Each demo account printed has news waiting.
    printed = [line.split()[0] for line in first.output.splitlines()
               if line.startswith("  ") and "<INSEE>" not in line]
    assert len(printed) >= 7
    unread = dict(session.execute(
        sa.select(User.email, sa.func.count()).join(Notification, Notification.user_id == User.id)
        .where(Notification.read_at.is_(None)).group_by(User.email)).all())
    assert [email for email in printed if not unread.get(email)] == []
    # Every demo account signs in with the demo password.
    signed_in = client.post("/sign-in", data={"csrf_token": csrf(),
                                              "email": "admin@maillage.localhost",
                                              "password": "maillage-demo"})
    assert signed_in.status_code == 303
    assert client.get("/api/v1/me").json["is_admin"] is True
    assert client.get("/api/v1/notifications/unread-count").json["count"] > 0
    # A second run changes nothing.
    counts = _row_counts()
    again = run("demo")
    assert again.exit_code == 0, again.output
    session.remove()
    assert _row_counts() == counts


def test_the_demo_grows_for_benches(run) -> None:
    result = run("demo", "--size", "2")
    assert result.exit_code == 0, result.output
    session.remove()
    members = sa.select(sa.func.count(sa.distinct(NetworkMembership.town_insee)))
    assert session.scalar(members) == 80
    initiatives = session.scalar(sa.select(sa.func.count()).select_from(Initiative))
    titles = session.scalars(sa.select(Initiative.title)).all()
    assert len(set(titles)) == initiatives >= 120
