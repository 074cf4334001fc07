"""The scheduled follow-through of help requests: widen those nobody answered nor claimed in
time, release the claims left unanswered, and decide the reminders due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from maillage.database import transaction, utcnow
from maillage.help.operations import escalate_unanswered, expire_claims, send_reminders
from workers.context import job_app


@dataclass(frozen=True)
class FollowThrough:
    """What one run did: the requests widened, those whose claim expired, the reminders."""

    escalated: list[int]
    expired: list[int]
    reminded: list[int]


def follow_through_help(now: datetime | None = None) -> FollowThrough:
    """Widen, release and remind as of `now` (the clock by default), in one transaction.

    Safe to run twice: a request is widened again only after its next delay, a claim
    released is gone, a reminder is decided once per request, person and kind.
    """
    app = job_app()
    now = now or utcnow()
    config = app.config
    with app.app_context(), transaction():
        expired = expire_claims(now, config["HELP_CLAIM_DELAY"])
        escalated = escalate_unanswered(now, config["HELP_ESCALATION_DELAY"])
        reminded = send_reminders(now, solved_after=config["HELP_REMINDER"],
                                  claim_after=config["HELP_CLAIM_DELAY"] / 2)
    return FollowThrough(escalated, expired, reminded)

