"""API of files: deleting one. Files are added through their item's endpoint
(`/initiatives/<id>/files`, `/help-requests/<id>/files`, `…/answers/<id>/files`) and listed
in its `files`; each one's bytes are at its `url`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask_login import current_user, login_required
from flask_smorest import abort

from maillage.api import Blueprint
from maillage.attachments import operations, queries
from maillage.attachments.operations import File
from maillage.attachments.schemas import AttachmentListSchema, UploadSchema, as_files
from maillage.bodies import takes_files

Uploading = Callable[..., dict[str, Any]]

blueprint = Blueprint("attachments_api", __name__, description="Files of initiatives and help")


@blueprint.route("/files/<int:attachment_id>", methods=["DELETE"])
@blueprint.response(204)
@login_required
def delete(attachment_id: int) -> None:
    """Delete a file: for whoever attached it, and whoever may add files to its item."""
    attachment = queries.shown(attachment_id, current_user)
    if attachment is None:
        abort(404, message=f"No file has the id {attachment_id}.")
    operations.delete_attachment(current_user, attachment)


def upload(blueprint: Blueprint, rule: str) -> Callable[[Uploading], Uploading]:
    """Declare the endpoint that adds files to an item, the same for every kind of item: a
    multipart body of parts named `files`, for members only, answered 201 with the item's
    files. The view receives the parts as `File`s, then the URL's arguments."""
    def decorator(view: Uploading) -> Uploading:
        @functools.wraps(view)
        def parsed(args: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
            files: list[File] = as_files(args["files"])
            return view(files, **kwargs)
        endpoint = takes_files(login_required(parsed))
        endpoint = blueprint.response(201, AttachmentListSchema)(endpoint)
        endpoint = blueprint.arguments(UploadSchema, location="files")(endpoint)
        return blueprint.route(rule, methods=["POST"])(endpoint)
    return decorator
