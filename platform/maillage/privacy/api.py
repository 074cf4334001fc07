"""API of personal data: export and delete the signed-in account."""

from __future__ import annotations

from typing import Any

from flask import Response, request, stream_with_context
from flask_login import current_user, login_required, logout_user

from maillage.api import Blueprint
from maillage.privacy import operations, queries
from maillage.privacy.schemas import DeleteAccountSchema, ExportSchema

blueprint = Blueprint("privacy_api", __name__, description="The signed-in user's personal data")


@blueprint.route("/me/export")
@blueprint.response(200, ExportSchema)
@login_required
def export() -> dict[str, Any]:
    """Return everything Maillage holds about the signed-in user."""
    return queries.personal_data(current_user.id)


@blueprint.route("/me/export/files")
@blueprint.response(200, content_type="application/zip",
                    description="A ZIP archive, each file named `<id>-<filename>`")
@login_required
def export_files() -> Response:
    """Download the files the signed-in user attached, as they are kept; the export's
    `attachments` rows say where each one is."""
    return Response(stream_with_context(queries.files_archive(current_user.id)),
                    mimetype="application/zip", headers={
                        "Content-Disposition": f"attachment; filename={queries.ARCHIVE}"})


@blueprint.route("/me", methods=["DELETE"])
@blueprint.arguments(DeleteAccountSchema)
@blueprint.response(204)
@login_required
def delete(args: dict[str, Any]) -> None:
    """Delete the signed-in account; what it published stays, attributed to its town."""
    operations.delete_account(current_user._get_current_object(),
                                   source=request.remote_addr or "", **args)
    logout_user()
