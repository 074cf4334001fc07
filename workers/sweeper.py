"""The sweepers of the outboxes: queue again the events that no worker has processed after a
while, the mails and the webhook deliveries that nobody answers for any more.

Dispatch after commit is best effort (Redis may be down, a process may die between the commit
and the enqueue, a sender in the middle of a try); these jobs make it at-least-once. Events
failed for good are left alone, and an event whose job is still queued or running is not
queued twice (`queues.RedisQueues`).
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from maillage.attachments.operations import sweep_orphans
from maillage.database import session, transaction, utcnow
from maillage.events import Event, dispatch, to_process
from maillage.jobs import Job
from maillage.mail.operations import take_expired
from maillage.notifications import retention
from maillage.webhooks import operations as webhooks
from workers.context import job_app

GRACE = timedelta(seconds=30)
BATCH = 1000


def sweep_outbox(grace: timedelta = GRACE) -> int:
    """Queue again the events left unprocessed for longer than `grace`; return how many."""
    app = job_app()
    with app.app_context(), transaction():
        cutoff = utcnow() - grace
        waiting = list(session.scalars(
            sa.select(Event.id).where(
                to_process(),
                sa.func.coalesce(Event.dispatched_at, Event.created_at) < cutoff,
            ).order_by(Event.id).limit(BATCH)
        ))
        if waiting:
            session.execute(sa.update(Event).where(Event.id.in_(waiting))
                            .values(dispatched_at=utcnow()))
    if waiting:
        dispatch(app, waiting)
    return len(waiting)


def sweep_mail(take_over: bool = False) -> int:
    """Queue again the mails to send whose lease ran out (every one, with `take_over`: the
    embedded mode's start, when whoever answered for them is gone); return how many."""
    app = job_app()
    with app.app_context(), transaction():
        waiting = take_expired(utcnow(), BATCH, all_pending=take_over)
    queues = app.extensions["maillage.queues"]
    for mail_id, attempt in waiting:
        queues.enqueue("mail", Job.SEND_MAIL, mail_id, attempt, job_id=f"mail-{mail_id}-{attempt}")
    return len(waiting)


def sweep_webhooks() -> int:
    """Queue again the webhook deliveries whose lease ran out; return how many."""
    app = job_app()
    with app.app_context(), transaction():
        waiting = webhooks.take_expired(utcnow(), BATCH)
    queues = app.extensions["maillage.queues"]
    for delivery_id, attempt in waiting:
        queues.enqueue("webhooks", Job.DELIVER_WEBHOOK, delivery_id, attempt,
                       job_id=f"webhook-{delivery_id}-{attempt}")
    return len(waiting)


def sweep_files() -> int:
    """Delete the stored bytes that no file names any more (an item deleted with its files,
    an upload whose transaction rolled back); return how many."""
    app = job_app()
    with app.app_context(), transaction():
        return sweep_orphans()


def prune_notifications() -> int:
    """Delete the notifications past their keeping (NOTIFICATIONS_KEEP_READ_DAYS for the read,
    NOTIFICATIONS_KEEP_UNREAD_DAYS for the others), in batches; return how many."""
    app = job_app()
    with app.app_context():
        return retention.prune(*retention.cutoffs(app.config, utcnow()))
