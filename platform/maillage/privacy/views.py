"""Pages of personal data: the account page, the download, the deletion."""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user
from marshmallow import ValidationError

from maillage.errors import Invalid
from maillage.forms import load_form
from maillage.privacy import operations, queries
from maillage.privacy.schemas import DeleteAccountSchema

blueprint = Blueprint("privacy", __name__)


@blueprint.get("/account")
@login_required
def account() -> str:
    return render_template("privacy/account.html", errors={},
                           uploads=queries.uploads(current_user.id))


@blueprint.get("/account/export")
@login_required
def export() -> Response:
    body = json.dumps(queries.personal_data(current_user.id), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": "attachment; filename=maillage-donnees-personnelles.json"})


@blueprint.get("/account/export/files")
@login_required
def export_files() -> Response:
    return Response(stream_with_context(queries.files_archive(current_user.id)),
                    mimetype="application/zip", headers={
                        "Content-Disposition": f"attachment; filename={queries.ARCHIVE}"})


@blueprint.post("/account/delete")
@login_required
def delete() -> Response | tuple[str, int]:
    try:
        data = load_form(DeleteAccountSchema(), request.form)
        operations.delete_account(current_user._get_current_object(),
                                       source=request.remote_addr or "", **data)
    except ValidationError as error:
        errors = error.normalized_messages()
    except Invalid as error:
        errors = error.errors
    else:
        logout_user()
        flash(_("Votre compte est supprimé. Ce que vous avez publié reste, au nom de votre "
                "commune."))
        return redirect(url_for("home"), 303)
    return render_template("privacy/account.html", errors=errors,
                           uploads=queries.uploads(current_user.id)), 422
