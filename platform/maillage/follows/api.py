"""API of follows: `PUT` follows, `DELETE` unfollows, both idempotent."""

from __future__ import annotations

from flask import Response
from flask_login import current_user, login_required
from flask_smorest import abort

from maillage.api import Blueprint
from maillage.follows import operations, queries
from maillage.follows.models import Follow, Target
from maillage.follows.schemas import FollowSchema

blueprint = Blueprint("follows_api", __name__, description="What the signed-in user follows")


def _key(target: Target, key: str) -> int | str:
    """Return the stored key of what `key` names, or answer 404."""
    found = queries.target_key(target, key, current_user)
    if found is None:
        abort(404, message=f"No {target.value} is named {key}.")
    return found


@blueprint.route("/follows")
@blueprint.response(200, FollowSchema(many=True))
@login_required
def list_follows() -> list[Follow]:
    """List what the signed-in user follows, latest first."""
    return queries.follows_of(current_user.id)


@blueprint.route("/follows/<any(theme,town,initiative,'help-request'):target>/<key>",
                 methods=["PUT"])
@blueprint.response(200, FollowSchema)
@login_required
def follow(target: str, key: str) -> Follow:
    """Follow a theme (slug), a town (INSEE code), an initiative or a help request (id).

    Following again is no error, and leaves one follow.
    """
    kind = Target(target)
    return operations.follow(current_user, kind, _key(kind, key))


@blueprint.route("/follows/<any(theme,town,initiative,'help-request'):target>/<key>",
                 methods=["DELETE"])
@blueprint.response(204)
@login_required
def unfollow(target: str, key: str) -> Response:
    """Stop following it; unfollowing what one does not follow is no error."""
    kind = Target(target)
    operations.unfollow(current_user, kind, _key(kind, key))
    return Response(status=204)
