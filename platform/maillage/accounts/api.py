"""API of accounts: the signed-in user, joining a town, verifying its members, expertise."""

from __future__ import annotations

from typing import Any

from flask_login import current_user, login_required
from flask_smorest import abort

from maillage.accounts import operations, queries
from maillage.accounts.models import ApiToken, Role, Scope, TownMembership, User
from maillage.accounts.schemas import (
    CreatedTokenSchema,
    ExpertiseSchema,
    JoinTownSchema,
    LanguageSchema,
    MembershipSchema,
    MeSchema,
    NewTokenSchema,
    TokenSchema,
)
from maillage.api import Blueprint
from maillage.towns import queries as towns

blueprint = Blueprint("accounts_api", __name__, description="The signed-in user and memberships")


@blueprint.route("/me")
@blueprint.response(200, MeSchema)
@login_required
def me() -> User:
    """Return the signed-in user, with their towns and expertise."""
    return current_user


@blueprint.route("/me", methods=["PATCH"])
@blueprint.arguments(LanguageSchema)
@blueprint.response(200, MeSchema)
@login_required
def set_language(args: dict[str, Any]) -> User:
    """Choose the signed-in user's language, fr or en: their pages, notices, digests and
    every other mail Maillage sends them."""
    return operations.set_language(current_user, args["locale"])


@blueprint.route("/me/expertise", methods=["PUT"])
@blueprint.arguments(ExpertiseSchema)
@blueprint.response(200, MeSchema)
@login_required
def set_expertise(args: dict[str, Any]) -> User:
    """Replace the themes the signed-in user can help on."""
    return operations.set_expertise(current_user, args["themes"])


@blueprint.route("/me/tokens")
@blueprint.response(200, TokenSchema(many=True))
@login_required
def tokens() -> list[ApiToken]:
    """List the signed-in user's live personal tokens (never their secrets)."""
    return queries.live_tokens(current_user.id)


@blueprint.route("/me/tokens", methods=["POST"])
@blueprint.arguments(NewTokenSchema)
@blueprint.response(201, CreatedTokenSchema)
@login_required
def create_token(args: dict[str, Any]) -> dict[str, Any]:
    """Create a personal token; its secret is in this answer and nowhere else, ever."""
    token, secret = operations.create_token(current_user, Scope(args["scope"]), args["name"])
    return {"token": token, "secret": secret}


@blueprint.route("/me/tokens/<int:token_id>", methods=["DELETE"])
@blueprint.response(204)
@login_required
def revoke_token(token_id: int) -> None:
    """Revoke a token: calls with it are refused at once, and its open sockets are closed."""
    operations.revoke_token(current_user, token_id)


@blueprint.route("/towns/<insee>/memberships", methods=["POST"])
@blueprint.arguments(JoinTownSchema)
@blueprint.response(201, MembershipSchema)
@login_required
def join_town(args: dict[str, Any], insee: str) -> TownMembership:
    """Say that the signed-in user serves this town; a member or moderator then verifies it."""
    if towns.get_town(insee) is None:
        abort(404, message=f"No town has the INSEE code {insee}.")
    return operations.join_town(current_user, insee, Role(args["role"]))


@blueprint.route("/memberships/<int:membership_id>/verify", methods=["POST"])
@blueprint.response(200, MembershipSchema)
@login_required
def verify(membership_id: int) -> TownMembership:
    """Verify a membership: for a verified member of the same town, a moderator or an admin."""
    membership = queries.get_membership(membership_id)
    if membership is None:
        abort(404, message=f"No membership has the id {membership_id}.")
    return operations.verify_membership(membership, current_user,
                                        operations.verify_as(current_user))
