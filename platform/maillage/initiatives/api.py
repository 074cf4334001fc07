"""API of initiatives: publish, list and search, read, edit, comment, replicate."""

from __future__ import annotations

from typing import Any

from flask_login import current_user, login_required
from flask_smorest import abort

from maillage import policy
from maillage.api import Blueprint
from maillage.attachments.api import upload
from maillage.attachments.operations import File
from maillage.initiatives import operations, queries
from maillage.initiatives.models import Comment, Initiative, Replication
from maillage.initiatives.schemas import (
    CommentCreateSchema,
    CommentSchema,
    InitiativeCreateSchema,
    InitiativePageSchema,
    InitiativeQueryArgs,
    InitiativeSchema,
    InitiativeUpdateSchema,
    ReplicationCreateSchema,
    ReplicationSchema,
    ReplicationUpdateSchema,
)

blueprint = Blueprint("initiatives_api", __name__, description="Initiatives of towns")


def _initiative(initiative_id: int) -> Initiative:
    initiative = queries.get_initiative(initiative_id)
    if initiative is None or not policy.can_see(current_user, initiative):
        abort(404, message=f"No initiative has the id {initiative_id}.")
    return initiative


@blueprint.route("/initiatives")
@blueprint.arguments(InitiativeQueryArgs, location="query")
@blueprint.response(200, InitiativePageSchema)
def list_initiatives(args: dict[str, Any]) -> dict[str, Any]:
    """List initiatives, newest first; with `q`, search them in French, best match first."""
    page = queries.list_initiatives(**args)
    for initiative in page.items:
        initiative.excerpt = page.excerpts.get(initiative.id)
    return {"items": page.items, "next_cursor": page.next_cursor}


@blueprint.route("/initiatives", methods=["POST"])
@blueprint.arguments(InitiativeCreateSchema)
@blueprint.response(201, InitiativeSchema)
@login_required
def publish(args: dict[str, Any]) -> Initiative:
    """Publish an initiative of a town the signed-in user is a verified member of."""
    return operations.publish_initiative(current_user, **args)


@blueprint.route("/initiatives/<int:initiative_id>")
@blueprint.response(200, InitiativeSchema)
def get_initiative(initiative_id: int) -> Initiative:
    """Return one initiative."""
    return _initiative(initiative_id)


@blueprint.route("/initiatives/<int:initiative_id>", methods=["PATCH"])
@blueprint.arguments(InitiativeUpdateSchema)
@blueprint.response(200, InitiativeSchema)
@login_required
def update(args: dict[str, Any], initiative_id: int) -> Initiative:
    """Change an initiative: for its author and the verified members of its town."""
    return operations.update_initiative(current_user, _initiative(initiative_id), args)


@upload(blueprint, "/initiatives/<int:initiative_id>/files")
def attach(files: list[File], initiative_id: int) -> dict[str, Any]:
    """Attach files to an initiative: for its author and the verified members of its town.
    The body is multipart/form-data, each file a part named `files`; answers the
    initiative's files."""
    initiative = operations.update_initiative(current_user, _initiative(initiative_id), {},
                                              files=files)
    return {"items": initiative.attachments}


@blueprint.route("/initiatives/<int:initiative_id>/comments", methods=["POST"])
@blueprint.arguments(CommentCreateSchema)
@blueprint.response(201, CommentSchema)
@login_required
def comment(args: dict[str, Any], initiative_id: int) -> Comment:
    """Comment on an initiative."""
    return operations.comment_on(current_user, _initiative(initiative_id), args["body"])


@blueprint.route("/initiatives/<int:initiative_id>/replications", methods=["POST"])
@blueprint.arguments(ReplicationCreateSchema)
@blueprint.response(201, ReplicationSchema)
@login_required
def replicate(args: dict[str, Any], initiative_id: int) -> Replication:
    """Say that a town of the signed-in user did this initiative too."""
    return operations.replicate(current_user, _initiative(initiative_id), **args)


@blueprint.route("/initiatives/<int:initiative_id>/replications/<int:replication_id>",
                 methods=["PATCH"])
@blueprint.arguments(ReplicationUpdateSchema)
@blueprint.response(200, ReplicationSchema)
@login_required
def update_replication(args: dict[str, Any], initiative_id: int,
                       replication_id: int) -> Replication:
    """Change a "we did it too", its note and its record: for the verified members of its
    town."""
    replication = queries.get_replication(_initiative(initiative_id).id, replication_id)
    if replication is None:
        abort(404, message=f"No replication has the id {replication_id} here.")
    return operations.update_replication(current_user, replication, args)
