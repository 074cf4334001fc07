"""Pages of notifications: the list, and marking them read."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from maillage.fields import BIGINT_MAX, ascii_int
from maillage.notifications import operations, queries, texts
from maillage.themes.queries import list_themes

blueprint = Blueprint("notifications", __name__)


def recent_notifications(limit: int) -> list[dict[str, Any]]:
    """The signed-in person's latest notifications, newest first, as the pages show them."""
    rows = queries.notifications_of(current_user.id, after=None, limit=limit)[::-1]
    locale = current_user.locale
    names = {theme.slug: theme.name(locale) for theme in list_themes()}
    return [{"id": row.id, "text": texts.what(row, locale),
             "why": texts.why(row, locale, names), "link": row.data.get("link", "/"),
             "created_at": row.created_at, "read": row.read_at is not None} for row in rows]


@blueprint.get("/notifications")
@login_required
def index() -> str:
    return render_template("notifications/index.html", items=recent_notifications(50))


@blueprint.post("/notifications/read")
@login_required
def mark_read() -> Response:
    up_to = ascii_int(request.form.get("up_to", ""), BIGINT_MAX)
    if up_to is not None:
        operations.mark_read(current_user.id, up_to=up_to)
    return redirect(url_for("notifications.index"), 303)
