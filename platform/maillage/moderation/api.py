"""API of moderation: anyone signed in reports; moderators list, hide, restore, dismiss."""

from __future__ import annotations

from typing import Any

from flask_login import current_user, login_required

from maillage import policy
from maillage.api import Blueprint
from maillage.moderation import operations, queries
from maillage.moderation.models import AuditEntry, Report
from maillage.moderation.schemas import (
    AuditEntrySchema,
    ModerationActionSchema,
    ReportCreateSchema,
    ReportSchema,
)

blueprint = Blueprint("moderation_api", __name__, description="Reports and moderation")



def _moderator() -> None:
    policy.require(policy.can_moderate(current_user), "Only moderators may see this.")


@blueprint.route("/reports", methods=["POST"])
@blueprint.arguments(ReportCreateSchema)
@blueprint.response(201, ReportSchema)
@login_required
def report(args: dict[str, Any]) -> Report:
    """Report an initiative, a comment, a help request, an answer or an offer of help to the
    moderators."""
    return operations.report(current_user, **args)


@blueprint.route("/reports")
@blueprint.response(200, ReportSchema(many=True))
@login_required
def open_reports() -> list[Report]:
    """List the reports nobody handled yet: for moderators."""
    _moderator()
    return queries.open_reports()


@blueprint.route(f"/moderation/{operations.ACTION_RULE}",
                 methods=["POST"])
@blueprint.arguments(ModerationActionSchema)
@blueprint.response(200, AuditEntrySchema)
@login_required
def moderate(args: dict[str, Any], kind: str, target_id: int, action: str) -> AuditEntry:
    """Hide content, show it again, or close its reports: for moderators, audited."""
    return operations.ACTIONS[action](current_user, kind, target_id, args["note"])


@blueprint.route("/moderation/audit")
@blueprint.response(200, AuditEntrySchema(many=True))
@login_required
def audit() -> list[AuditEntry]:
    """List what moderators did, newest first: for moderators."""
    _moderator()
    return queries.audit_log()
