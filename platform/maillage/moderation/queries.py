"""Reading moderation: what can be reported, open reports, the audit log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from maillage.database import session
from maillage.help.models import HelpAnswer, HelpRequest
from maillage.initiatives.models import Comment, Initiative
from maillage.moderation.models import AuditEntry, Report

# The kinds of content that can be reported and hidden: a model with `hidden_at`, by the name
# the API and the reports use; and, for the moderators' page, where each is shown and what to
# read of it. A new kind is one more line in each.
TARGETS: dict[str, Any] = {
    "initiative": Initiative,
    "comment": Comment,
    "help-request": HelpRequest,
    "help-answer": HelpAnswer,
}
SHOWN: dict[str, Callable[[Any], tuple[str, str]]] = {
    "initiative": lambda initiative: (f"/initiatives/{initiative.id}", initiative.title),
    "comment": lambda comment: (
        f"/initiatives/{comment.initiative_id}#commentaire-{comment.id}", comment.body),
    "help-request": lambda request: (f"/help-requests/{request.id}", request.title),
    "help-answer": lambda answer: (
        f"/help-requests/{answer.help_request_id}#reponse-{answer.id}", answer.body),
}


def get_target(kind: str, target_id: int) -> Any | None:
    """Return the content `kind` `target_id`, hidden or not, or None."""
    model = TARGETS.get(kind)
    return session.get(model, target_id) if model is not None else None


@dataclass(frozen=True)
class Content:
    """Reported or moderated content as the moderators' page shows it."""

    link: str
    text: str  # a title, or the Markdown of a comment or an answer
    hidden: bool


def content(kind: str, target_id: int) -> Content | None:
    """Return what a moderator reads of the content, hidden or not; None once deleted.

    A hidden comment or answer is on no page, not even for moderators: this is where they
    read it again before they restore it.
    """
    target = get_target(kind, target_id)
    if target is None:
        return None
    link, text = SHOWN[kind](target)
    return Content(link, text, target.hidden_at is not None)


def open_reports(limit: int = 200) -> list[Report]:
    """Return the reports nobody handled yet, oldest first."""
    return list(session.scalars(sa.select(Report).where(Report.resolved_at.is_(None))
                                .order_by(Report.id).limit(limit)))


def audit_log(limit: int = 200) -> list[AuditEntry]:
    """Return what moderators did, newest first."""
    return list(session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())
                                .limit(limit)))
