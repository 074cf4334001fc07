"""The scheduled escalation of help requests nobody answered within the delay."""

from __future__ import annotations

from datetime import datetime

from maillage.database import transaction, utcnow
from maillage.help.operations import escalate_unanswered
from workers.context import job_app


def escalate_help_requests(now: datetime | None = None) -> list[int]:
    """Widen the unanswered requests once, as of `now` (the clock by default); return them.

    Safe to run twice: a request escalated has `escalated_at` and is not picked again.
    """
    app = job_app()
    with app.app_context(), transaction():
        return escalate_unanswered(now or utcnow(), app.config["HELP_ESCALATION_DELAY"])
