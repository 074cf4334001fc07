"""Personal tokens: listed, created and revoked by their owner, and a revoked one shuts its doors.

A revoked token is refused by the API at once, and the sockets it opened are closed by the
worker that consumes `token.revoked`, so that it stops hearing its owner's notifications.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask.cli import ScriptInfo

from maillage.accounts import queries
from maillage.accounts.models import ApiToken, Scope
from maillage.cli import main
from maillage.database import session
from maillage.events import Event
from maillage.realtime import socketio
from tests.support.api import bearer


@pytest.fixture
def owner(create_user):
    return create_user("owner@example.org")


def test_the_owner_creates_lists_and_revokes_tokens(client, owner, token_for) -> None:
    secret = token_for(owner, Scope.WRITE)
    created = client.post("/api/v1/me/tokens", json={"scope": "read", "name": "tableau"},
                          headers=bearer(secret))
    assert created.status_code == 201
    assert created.json["secret"].startswith("mlg_")
    assert client.get("/api/v1/me", headers=bearer(created.json["secret"])).status_code == 200

    listed = client.get("/api/v1/me/tokens", headers=bearer(secret)).json
    assert [(t["name"], t["scope"]) for t in listed] == [("tableau", "read"), ("", "write")]
    assert all("secret" not in t for t in listed)

    token_id = created.json["token"]["id"]
    revoked = client.delete(f"/api/v1/me/tokens/{token_id}", headers=bearer(secret))
    assert revoked.status_code == 204
    refused = client.get("/api/v1/me", headers=bearer(created.json["secret"]))
    assert refused.status_code == 401
    assert [t["id"] for t in client.get("/api/v1/me/tokens", headers=bearer(secret)).json] \
        == [listed[1]["id"]]
    kinds = session.scalars(sa.select(Event.payload).where(Event.kind == "token.revoked"))
    assert list(kinds) == [{"token_id": token_id, "user_id": owner.id}]


def test_nobody_revokes_someone_elses_token_nor_one_twice(client, owner, create_user,
                                                          token_for) -> None:
    theirs = token_for(owner)
    mine = token_for(create_user())
    their_id = client.get("/api/v1/me/tokens", headers=bearer(theirs)).json[0]["id"]

    assert client.delete(f"/api/v1/me/tokens/{their_id}", headers=bearer(mine)).status_code \
        == 404
    assert client.get("/api/v1/me", headers=bearer(theirs)).status_code == 200
    assert session.scalar(sa.select(sa.func.count()).select_from(Event)
                          .where(Event.kind == "token.revoked")) == 0

    assert client.delete(f"/api/v1/me/tokens/{their_id}", headers=bearer(theirs)).status_code \
        == 204
    session.remove()
    assert client.delete(f"/api/v1/me/tokens/{their_id}", headers=bearer(mine)).status_code \
        == 404


def test_a_read_token_may_not_create_tokens_and_bad_input_is_explained(client, owner,
                                                                       token_for) -> None:
    reader = token_for(owner, Scope.READ)
    assert client.post("/api/v1/me/tokens", json={"scope": "write"},
                       headers=bearer(reader)).status_code == 403
    writer = token_for(owner, Scope.WRITE)
    bad = client.post("/api/v1/me/tokens", json={"scope": "admin", "name": "x" * 121},
                      headers=bearer(writer))
    assert bad.status_code == 422
    assert set(bad.json["errors"]["json"]) == {"scope", "name"}
    assert session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 2
    assert client.get("/api/v1/me/tokens").status_code == 401


def test_the_command_line_lists_and_revokes(app, client, owner, token_for) -> None:
    secret = token_for(owner)

    def run(*args: str):
        return CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))

    listed = run("tokens", "list", "owner@example.org")
    assert listed.exit_code == 0, listed.output
    token_id = int(listed.output.split("\t")[0])
    assert listed.output.rstrip().endswith("last used never")
    assert run("tokens", "revoke", "owner@example.org", str(token_id + 1000)).exit_code != 0
    revoked = run("tokens", "revoke", "owner@example.org", str(token_id))
    assert revoked.exit_code == 0, revoked.output
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    assert run("tokens", "list", "owner@example.org").output == ""


def test_revoking_a_token_closes_the_sockets_it_opened_and_only_those(app, client, owner,
                                                                      token_for) -> None:
    revoked, kept = token_for(owner), token_for(owner)
    with app.app_context():
        doomed = socketio.test_client(app, auth={"token": revoked})
        spared = socketio.test_client(app, auth={"token": kept})
    assert doomed.is_connected()
    assert spared.is_connected()
    token_id = queries.token_by_secret(revoked).id

    assert client.delete(f"/api/v1/me/tokens/{token_id}", headers=bearer(kept)).status_code \
        == 204
    assert app.extensions["maillage.queues"].join(timeout=30)

    assert not doomed.is_connected()
    assert spared.is_connected()
    spared.disconnect()



def test_the_tokens_page_creates_shows_once_and_revokes(client, owner, sign_in, csrf) -> None:
    sign_in(owner)
    assert "aucun jeton" in client.get("/settings/tokens").get_data(as_text=True)

    created = client.post("/settings/tokens", data={"csrf_token": csrf(), "name": "tableau",
                                                    "scope": "read"})
    assert created.status_code == 200
    page = created.get_data(as_text=True)
    secret = page.split('<code class="secret">')[1].split("</code>")[0]
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    assert secret not in client.get("/settings/tokens").get_data(as_text=True)

    wrong = client.post("/settings/tokens", data={"csrf_token": csrf(), "scope": "root"})
    assert wrong.status_code == 422
    assert 'id="scope-error"' in wrong.get_data(as_text=True)

    token_id = queries.token_by_secret(secret).id
    revoked = client.post(f"/settings/tokens/{token_id}/revoke",
                          data={"csrf_token": csrf()}, follow_redirects=True)
    assert "est révoqué" in revoked.get_data(as_text=True)
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401


def test_the_tokens_page_asks_to_sign_in(client) -> None:
    response = client.get("/settings/tokens")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]
