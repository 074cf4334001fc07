"""Every write endpoint of the API, with every role: the status, and nothing changed if refused.

The endpoints are read from the app's URL map, so one added without a row here fails
`test_the_matrix_covers_every_write_endpoint`: a new write is never left untried.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from maillage.accounts.models import ApiToken, Role, Scope, User
from maillage.database import Base, session, transaction
from maillage.networks.operations import add_board_seat, create_network
from maillage.themes.models import Theme
from maillage.webhooks.operations import register_webhook
from tests.support.databases import REFERENCE_TABLES
from tests.support.files import PDF
from tests.support.initiatives import VALID

# "granted": a referent by an admin's grant, member of no town.
ROLES = ["signed_out", "unverified", "other_town", "member", "referent", "granted", "moderator",
         "admin"]
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LANNION, QUIMPER = "22113", "29232"
HELP = {"town": LANNION, "title": "Sécuriser nos messageries",
        "body": "Comment faire **simple** ?", "themes": ["cybersecurite"]}


@dataclass(frozen=True)
class Case:
    path: str  # formatted with the world: {initiative}, {comment}, {membership}, {theme}
    body: dict[str, Any] | None
    allowed: dict[str, int]  # role: status; any other signed-in role gets `refused`
    refused: int = 403
    signed_out: int = 401
    files: bool = False  # the body is multipart/form-data: a PDF as the part `files`

    def expected(self, role: str) -> int:
        if role == "signed_out":
            return self.signed_out
        return self.allowed.get(role, self.refused)


SIGNED_IN = [role for role in ROLES if role != "signed_out"]


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(SIGNED_IN, status)


MATRIX: dict[tuple[str, str], Case] = {
    ("PUT", "/api/v1/me/expertise"): Case(  # verified members of a town, or by a grant
        "/api/v1/me/expertise", {"themes": ["{theme}"]},
        {"other_town": 200, "member": 200, "referent": 200, "granted": 200}),
    ("POST", "/api/v1/towns/<insee>/memberships"): Case(
        "/api/v1/towns/35238/memberships", {"role": "agent"}, everyone(201)),
    ("POST", "/api/v1/memberships/<int:membership_id>/verify"): Case(
        "/api/v1/memberships/{membership}/verify", None,
        {"member": 200, "referent": 200, "moderator": 200, "admin": 200}),
    ("POST", "/api/v1/initiatives"): Case(
        "/api/v1/initiatives", VALID, {"member": 201, "referent": 201}),
    ("PATCH", "/api/v1/initiatives/<int:initiative_id>"): Case(
        "/api/v1/initiatives/{initiative}", {"status": "done"},
        {"member": 200, "referent": 200}),
    ("POST", "/api/v1/initiatives/<int:initiative_id>/files"): Case(
        "/api/v1/initiatives/{initiative}/files", None, {"member": 201, "referent": 201},
        files=True),
    ("DELETE", "/api/v1/files/<int:attachment_id>"): Case(  # the uploader is the author
        "/api/v1/files/{file}", None, {"member": 204, "referent": 204}),
    ("POST", "/api/v1/help-requests/<int:request_id>/files"): Case(  # the asker's town's
        "/api/v1/help-requests/{help_request}/files", None, {"member": 201, "referent": 201},
        files=True),
    ("POST", "/api/v1/help-requests/<int:request_id>/answers/<int:answer_id>/files"): Case(
        "/api/v1/help-requests/{help_request}/answers/{answer}/files", None, {}, files=True),
    ("POST", "/api/v1/initiatives/<int:initiative_id>/comments"): Case(
        "/api/v1/initiatives/{initiative}/comments", {"body": "Bravo."}, everyone(201)),
    ("POST", "/api/v1/initiatives/<int:initiative_id>/replications"): Case(
        "/api/v1/initiatives/{initiative}/replications", {"town": QUIMPER},
        {"other_town": 201}),
    # The world's replication is Landerneau's: no role speaks for it, the original's town
    # (member) neither.
    ("PATCH", "/api/v1/initiatives/<int:initiative_id>/replications/<int:replication_id>"):
        Case("/api/v1/initiatives/{initiative}/replications/{replication}",
             {"record": {"total_cost_eur": 10}}, {}),
    ("PUT", "/api/v1/follows/<any(theme,town,initiative,'help-request'):target>/<key>"): Case(
        "/api/v1/follows/help-request/{help_request}", None, everyone(200)),
    ("DELETE", "/api/v1/follows/<any(theme,town,initiative,'help-request'):target>/<key>"):
        Case("/api/v1/follows/initiative/{initiative}", None, everyone(204)),
    ("POST", "/api/v1/me/tokens"): Case(
        "/api/v1/me/tokens", {"scope": "read", "name": "tableau"}, everyone(201)),
    ("DELETE", "/api/v1/me/tokens/<int:token_id>"): Case(  # the author's: nobody else's
        "/api/v1/me/tokens/{author_token}", None, {}, refused=404),
    ("POST", "/api/v1/help-requests"): Case(
        "/api/v1/help-requests", HELP, {"member": 201, "referent": 201}),
    ("POST", "/api/v1/help-requests/<int:request_id>/answers"): Case(
        "/api/v1/help-requests/{help_request}/answers", {"body": "Voici comment."},
        {"other_town": 201, "member": 201, "referent": 201}),
    ("POST", "/api/v1/help-requests/<int:request_id>/answers/<int:answer_id>/accept"): Case(
        "/api/v1/help-requests/{help_request}/answers/{answer}/accept", None, {}),
    ("POST", "/api/v1/help-requests/<int:request_id>/claim"): Case(  # a referent of its theme
        "/api/v1/help-requests/{help_request}/claim", None, {"referent": 200}),
    ("POST", "/api/v1/help-requests/<int:request_id>/release"): Case(  # nobody claimed it
        "/api/v1/help-requests/{help_request}/release", None, {}, refused=409),
    ("POST", "/api/v1/help-requests/<int:request_id>/close"): Case(  # the asker's only
        "/api/v1/help-requests/{help_request}/close", None, {}),
    ("POST", "/api/v1/help-offers"): Case(
        "/api/v1/help-offers", {**HELP, "town": LANNION}, {"member": 201, "referent": 201}),
    ("POST", "/api/v1/networks/<slug>/board-seats"): Case(
        "/api/v1/networks/apvf/board-seats", {"town": QUIMPER, "role": "trésorière"},
        {"admin": 201}),
    ("DELETE", "/api/v1/board-seats/<int:seat_id>"): Case(
        "/api/v1/board-seats/{seat}", None, {"admin": 204}),
    ("POST", "/api/v1/networks/<slug>/webhooks"): Case(
        "/api/v1/networks/apvf/webhooks",
        {"url": "https://93.184.215.14/hook", "kinds": ["help.requested"]}, {"admin": 201}),
    ("DELETE", "/api/v1/networks/<slug>/webhooks/<int:webhook_id>"): Case(
        "/api/v1/networks/apvf/webhooks/{webhook}", None, {"admin": 204}),
    ("POST", "/api/v1/networks/<slug>/webhooks/<int:webhook_id>/enable"): Case(
        "/api/v1/networks/apvf/webhooks/{webhook}/enable", None, {"admin": 200}),
    ("PUT", "/api/v1/me/email-preferences"): Case(
        "/api/v1/me/email-preferences", {"frequency": "daily"}, everyone(200)),
    ("POST", "/api/v1/subscriptions"): Case(  # no account needed: a confirmation is mailed
        "/api/v1/subscriptions", {"email": "habitant@example.org", "themes": ["{theme}"]},
        everyone(202), signed_out=202),
    ("POST", "/api/v1/notifications/read"): Case(
        "/api/v1/notifications/read", {"up_to": 1}, everyone(200)),
    ("PATCH", "/api/v1/me"): Case(  # one's own language, whoever one is
        "/api/v1/me", {"locale": "en"}, everyone(200)),
    ("DELETE", "/api/v1/me"): Case(  # without its confirmation: refused, whoever asks
        "/api/v1/me", {}, everyone(422)),
    ("POST", "/api/v1/reports"): Case(
        "/api/v1/reports", {"kind": "help-offer", "target_id": "{offer}",
                            "reason": "Hors sujet"}, everyone(201)),
    ("POST", "/api/v1/moderation/<any('initiative','comment','help-request','help-answer',"
             "'help-offer'):kind>/<int:target_id>/"
             "<any(hide,restore,dismiss):action>"): Case(
        "/api/v1/moderation/help-offer/{offer}/hide", {}, {"moderator": 200, "admin": 200}),
}


def write_endpoints(app) -> set[tuple[str, str]]:
    return {(method, rule.rule) for rule in app.url_map.iter_rules()
            if rule.rule.startswith("/api/") for method in rule.methods & WRITES}


def test_the_matrix_covers_every_write_endpoint(app) -> None:
    assert write_endpoints(app) == set(MATRIX)


def dump() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the reference data, in a stable order."""
    return {table.name: sorted(map(tuple, session.execute(sa.select(table))), key=repr)
            for table in Base.metadata.sorted_tables if table.name not in REFERENCE_TABLES}


@pytest.fixture
def world(app, client, create_user, token_for) -> dict[str, Any]:
    """An initiative of Lannion with a comment, a help request with an answer, an offer of
    help, a pending member, and a token per role."""
    author = create_user(town=LANNION, verified=True)
    headers = {"Authorization": f"Bearer {token_for(author, Scope.WRITE)}"}
    initiative = client.post("/api/v1/initiatives", json=VALID, headers=headers).json["id"]
    [file] = client.post(f"/api/v1/initiatives/{initiative}/files", headers=headers,
                         data={"files": (io.BytesIO(PDF), "rapport.pdf")}).json["items"]
    comment = client.post(f"/api/v1/initiatives/{initiative}/comments",
                          json={"body": "Premier."}, headers=headers).json["id"]
    pending = create_user(town=LANNION).memberships[0].id
    landerneau = {"Authorization":
                  f"Bearer {token_for(create_user(town='29103', verified=True))}"}
    replication = client.post(f"/api/v1/initiatives/{initiative}/replications",
                              json={"town": "29103"}, headers=landerneau).json["id"]
    asked = client.post("/api/v1/help-requests", json=HELP, headers=headers).json["id"]
    answerer = {"Authorization": f"Bearer {token_for(create_user(town=QUIMPER, verified=True))}"}
    answer = client.post(f"/api/v1/help-requests/{asked}/answers", json={"body": "Ainsi."},
                         headers=answerer).json["id"]
    offer = client.post("/api/v1/help-offers", json=HELP, headers=headers).json["id"]
    with transaction():
        network = create_network("apvf", "Association des petites villes de France")
        admin = create_user(admin=True)
        seat = add_board_seat(session.get(User, admin.id), network, town=LANNION,
                              role="président").id
        webhook = register_webhook(session.get(User, admin.id), network,
                                   "https://93.184.215.14/hook", ["initiative.published"]).id
    author_token = session.scalar(sa.select(ApiToken.id).where(ApiToken.user_id == author.id))
    users = {
        "unverified": create_user(town=LANNION),
        "other_town": create_user(town=QUIMPER, verified=True),
        "member": create_user(town=LANNION, verified=True),
        "referent": create_user(town=LANNION, role=Role.REFERENT, verified=True,
                                expertise=("cybersecurite",)),
        "granted": create_user(granted=True),
        "moderator": create_user(moderator=True),
        "admin": create_user(admin=True),
    }
    tokens = {role: {"Authorization": f"Bearer {token_for(user, Scope.WRITE)}"}
              for role, user in users.items()}
    return {"initiative": initiative, "file": file["id"], "comment": comment, "membership": pending,
            "replication": replication,
            "help_request": asked, "answer": answer, "offer": offer, "seat": seat,
            "webhook": webhook,
            "author_token": author_token,
            "theme": session.scalar(sa.select(Theme.slug).order_by(Theme.id)),
            "tokens": tokens | {"signed_out": {}}}


def _fill(value: Any, world: dict[str, Any]) -> Any:
    if isinstance(value, str):
        filled = value.format(**world)
        return int(filled) if value.startswith("{") and filled.isdigit() else filled
    if isinstance(value, list):
        return [_fill(item, world) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, world) for key, item in value.items()}
    return value


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", list(MATRIX), ids=lambda e: f"{e[0]} {e[1]}")
def test_permission(client, world, endpoint: tuple[str, str], role: str) -> None:
    case = MATRIX[endpoint]
    queues = client.application.extensions["maillage.queues"]
    assert queues.join(timeout=30)
    before = dump()
    body = {"data": {"files": (io.BytesIO(PDF), "rapport.pdf")}} if case.files else \
        {"json": _fill(case.body, world) if case.body is not None else None}
    response = client.open(_fill(case.path, world), method=endpoint[0], **body,
                           headers=world["tokens"][role])
    assert response.status_code == case.expected(role), response.get_data(as_text=True)
    assert queues.join(timeout=30)
    if response.status_code >= 400:
        assert dump() == before, "a refused call changed nothing"
