"""What every event causes in email: the notifications it made that their readers want at
once are mailed."""

from __future__ import annotations

from typing import Any

from maillage import queues
from maillage.emails.queries import immediate_notices
from maillage.events import Event
from maillage.jobs import Job
from maillage.reactions import Fanout, after_every_event


@after_every_event
def queue_immediate_notices(event: Event, _happened: Any) -> Fanout:
    """After the fan-out of `event`, queue a mail for each notification wanted at once.

    Runs last among the event's handlers, in their transaction: the jobs are queued when the
    notifications are committed, and not at all if they are rolled back.
    """
    for notification_id in immediate_notices(event.id, event.kind):
        queues.enqueue_after_commit("mail", Job.SEND_NOTICE, notification_id,
                                    job_id=f"notice-{notification_id}")
    return Fanout()
