"""The outbox sweeper: queue again the events that no worker has processed after a while.

Dispatch after commit is best effort (Redis may be down, a process may die between the commit
and the enqueue); this job makes it at-least-once. Events failed for good are left alone, and
an event whose job is still queued or running is not queued twice (`queues.RedisQueues`).
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from maillage.database import session, transaction, utcnow
from maillage.events import Event, dispatch, to_process
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
