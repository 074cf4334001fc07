"""Reading moderation: what can be reported, open reports, the audit log."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from maillage.database import session
from maillage.initiatives.models import Comment, Initiative
from maillage.moderation.models import AuditEntry, Report

# The kinds of content that can be reported and hidden: a model with `hidden_at`, by the name
# the API and the reports use. A new kind (help requests, answers) is one more line.
TARGETS: dict[str, Any] = {
    "initiative": Initiative,
    "comment": Comment,
}


def get_target(kind: str, target_id: int) -> Any | None:
    """Return the content `kind` `target_id`, hidden or not, or None."""
    model = TARGETS.get(kind)
    return session.get(model, target_id) if model is not None else None


def open_reports(limit: int = 200) -> list[Report]:
    """Return the reports nobody handled yet, oldest first."""
    return list(session.scalars(sa.select(Report).where(Report.resolved_at.is_(None))
                                .order_by(Report.id).limit(limit)))


def audit_log(limit: int = 200) -> list[AuditEntry]:
    """Return what moderators did, newest first."""
    return list(session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())
                                .limit(limit)))
