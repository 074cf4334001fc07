"""API of notifications: list what came after an id, count the unread, mark read."""

from __future__ import annotations

from typing import Any

from flask_login import current_user, login_required

from maillage.api import Blueprint
from maillage.notifications import operations, queries, texts
from maillage.notifications.schemas import (
    MarkReadSchema,
    NotificationListSchema,
    NotificationQueryArgs,
    UnreadCountSchema,
    UnreadSchema,
)
from maillage.themes.queries import list_themes

blueprint = Blueprint("notifications_api", __name__,
                      description="The signed-in user's notifications")


@blueprint.route("/notifications")
@blueprint.arguments(NotificationQueryArgs, location="query")
@blueprint.response(200, NotificationListSchema)
@login_required
def list_notifications(args: dict[str, Any]) -> dict[str, Any]:
    """List notifications in id order: those after `after`, or else the latest ones."""
    rows = queries.notifications_of(current_user.id, after=args.get("after"),
                                    limit=args["limit"])
    locale = current_user.locale
    names = {theme.slug: theme.name(locale) for theme in list_themes()} if any(
        row.reason == "theme" for row in rows) else {}
    items = [{
        "id": row.id, "kind": row.kind, "text": texts.what(row, locale),
        "reason": row.reason, "reason_ref": row.reason_ref,
        "reason_text": texts.why(row, locale, names), "link": row.data.get("link", "/"),
        "actor": row.data.get("actor"), "created_at": row.created_at,
        "read": row.read_at is not None,
    } for row in rows]
    return {"items": items, "last_id": rows[-1].id if rows else args.get("after")}


@blueprint.route("/notifications/unread-count")
@blueprint.response(200, UnreadSchema)
@login_required
def unread_count() -> dict[str, int | bool]:
    """Count the signed-in user's unread notifications, up to a cap (`capped` says it was
    reached: there are at least `count`)."""
    count = queries.unread_count(current_user.id)
    return {"count": count, "capped": count >= queries.UNREAD_CAP}


@blueprint.route("/notifications/read", methods=["POST"])
@blueprint.arguments(MarkReadSchema)
@blueprint.response(200, UnreadCountSchema)
@login_required
def mark_read(args: dict[str, Any]) -> dict[str, int]:
    """Mark `ids` read, or every notification up to `up_to`; answer how many were marked."""
    return {"count": operations.mark_read(current_user.id, ids=args.get("ids", ()),
                                          up_to=args.get("up_to"))}
