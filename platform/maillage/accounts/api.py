"""API of accounts: the signed-in user, joining a town, verifying its members, expertise."""

from __future__ import annotations

from typing import Any

from flask_login import current_user, login_required
from flask_smorest import Blueprint, abort

from maillage.accounts import operations, queries
from maillage.accounts.models import Role, TownMembership, User
from maillage.accounts.schemas import ExpertiseSchema, JoinTownSchema, MembershipSchema, MeSchema
from maillage.towns import queries as towns

blueprint = Blueprint("accounts_api", __name__, description="The signed-in user and memberships")


@blueprint.route("/me")
@blueprint.response(200, MeSchema)
@login_required
def me() -> User:
    """Return the signed-in user, with their towns and expertise."""
    return current_user


@blueprint.route("/me/expertise", methods=["PUT"])
@blueprint.arguments(ExpertiseSchema)
@blueprint.response(200, MeSchema)
@login_required
def set_expertise(args: dict[str, Any]) -> User:
    """Replace the themes the signed-in user can help on."""
    return operations.set_expertise(current_user, args["themes"])


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
