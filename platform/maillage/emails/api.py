"""API of email: the signed-in user's preferences, and subscriptions without an account."""

from __future__ import annotations

from typing import Any

from flask_login import current_user, login_required

from maillage.api import Blueprint
from maillage.emails import operations, queries
from maillage.emails.models import Frequency, Mode
from maillage.emails.schemas import (
    PreferencesSchema,
    SubscriptionRequestedSchema,
    SubscriptionSchema,
)

blueprint = Blueprint("emails_api", __name__, description="Email preferences and subscriptions")


@blueprint.route("/me/email-preferences")
@blueprint.response(200, PreferencesSchema)
@login_required
def get_preferences() -> dict[str, Any]:
    """What the signed-in user receives by email: a mode per category, the digest frequency."""
    return queries.preferences_view(current_user.id)


@blueprint.route("/me/email-preferences", methods=["PUT"])
@blueprint.arguments(PreferencesSchema)
@blueprint.response(200, PreferencesSchema)
@login_required
def put_preferences(args: dict[str, Any]) -> dict[str, Any]:
    """Set the frequency and the modes given (the others keep theirs); this also undoes an
    earlier "unsubscribe from everything"."""
    operations.set_preferences(
        current_user, frequency=Frequency(args["frequency"]) if "frequency" in args else None,
        modes={name: Mode(mode) for name, mode in args.get("modes", {}).items()})
    return queries.preferences_view(current_user.id)


@blueprint.route("/subscriptions", methods=["POST"])
@blueprint.arguments(SubscriptionSchema)
@blueprint.response(202, SubscriptionRequestedSchema)
def subscribe(args: dict[str, Any]) -> dict[str, str]:
    """Subscribe an address to the digest of themes and towns, no account needed; nothing but
    a confirmation is sent until its link is followed. The answer is the same whether the
    address was known or not."""
    operations.subscribe(args["email"], themes=args["themes"], towns=args["towns"],
                         frequency=Frequency(args["frequency"]), locale=args["locale"])
    return {"status": "pending",
            "message": "A confirmation was mailed; follow its link within 2 days."}
