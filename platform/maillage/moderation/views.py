"""Pages of moderation: the open reports with their actions, the audit log; reporting."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from maillage import policy
from maillage.errors import Invalid
from maillage.forms import load_form
from maillage.moderation import operations, queries
from maillage.moderation.schemas import ModerationActionSchema, ReportCreateSchema

blueprint = Blueprint("moderation", __name__)


@blueprint.get("/moderation")
@login_required
def index() -> str:
    policy.require(policy.can_moderate(current_user),
                   _("Seuls les modérateurs ont accès à cette page."))
    reports, audit = queries.open_reports(), queries.audit_log(50)
    contents = {(entry.target_kind, entry.target_id):
                queries.content(entry.target_kind, entry.target_id)
                for entry in [*reports, *audit]}
    return render_template("moderation/index.html", reports=reports, audit=audit,
                           contents=contents)


@blueprint.post(f"/moderation/{operations.ACTION_RULE}")
@login_required
def moderate(kind: str, target_id: int, action: str) -> Response:
    data = load_form(ModerationActionSchema(), request.form)
    operations.ACTIONS[action](current_user, kind, target_id, data["note"])
    flash(_("C'est fait, et inscrit au journal de modération."))
    return redirect(url_for("moderation.index"), 303)


@blueprint.post("/reports")
@login_required
def report() -> Response:
    try:
        data = load_form(ReportCreateSchema(), request.form)
    except ValidationError as error:
        raise Invalid(error.normalized_messages()) from None
    operations.report(current_user, **data)
    flash(_("Merci : les modérateurs vont regarder."))
    return redirect(request.referrer if request.referrer and
                    request.referrer.startswith(request.host_url) else url_for("home"), 303)
