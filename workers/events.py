"""The job that processes one event of the outbox: its reactions, then live delivery.

What an event causes is declared by its feature (`maillage.reactions`); this only runs it.
It is safe to run twice, at once or one after the other: the event row is locked while it is
processed, a processed event is skipped, and notifications are unique per event and person.
Each run counts a try in the event's row, committed before the reactions run, so that a run
killing its worker counts too. A failed try raises, so that RQ (or the sweeper) tries again
later; the EVENT_MAX_TRIES-th marks the event failed with its error and returns, and nobody
tries it again until it is replayed. An event of a kind nobody declares fails too, rather than
passing as processed.
"""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass

import sqlalchemy as sa

from maillage import events, reactions, realtime
from maillage.database import session, transaction, utcnow
from maillage.events import Event
from maillage.notifications.queries import of_event_for
from maillage.reactions import Fanout
from workers.context import job_app

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What a run did, kept by RQ as the job's result and logged: the fan-out's vital signs."""

    notified: int
    persisted_seconds: float
    delivered_seconds: float


def process_event(event_id: int) -> Outcome:
    """Notify the people event `event_id` concerns, then tell their open pages."""
    started = time.perf_counter()
    app = job_app()
    with app.app_context():
        max_tries = app.config["EVENT_MAX_TRIES"]
        with transaction():
            tries = events.count_try(event_id, max_tries)
        if tries is None:
            return Outcome(0, 0.0, 0.0)
        try:
            with transaction():
                event = session.scalar(sa.select(Event).where(Event.id == event_id)
                                       .with_for_update())
                if event is None or event.processed_at or event.failed_at:
                    return Outcome(0, 0.0, 0.0)
                kind = event.kind
                happened = event.as_domain()
                results = [handle(event, happened) for handle in reactions.handlers_of(kind)]
                event.processed_at = utcnow()
        except Exception:
            final = tries >= max_tries
            with transaction():
                events.note_failure(event_id, traceback.format_exc(), final=final)
            if not final:
                raise
            log.exception("Event %s failed for good after %d tries", event_id, tries)
            return Outcome(0, 0.0, 0.0)
        persisted = time.perf_counter() - started
        # Live messages only once the notifications are committed, and only by the run that
        # processed the event: a second run stops above and sends nothing twice.
        _deliver(event_id, results)
    outcome = Outcome(sum(result.notified for result in results), persisted,
                      time.perf_counter() - started)
    log.info("Event %s (%s): %d notified, persisted in %.3f s, delivered in %.3f s", event_id,
             kind, outcome.notified, outcome.persisted_seconds, outcome.delivered_seconds)
    return outcome


def _deliver(event_id: int, results: list[Fanout]) -> None:
    """Tell the people with a page open, and the public rooms.

    Only connected people get a message: a fan-out to 100,000 followers costs a message per
    connected follower, all in one Redis message, and one query for their notification ids.
    """
    notified = sum(result.notified for result in results)
    if notified:
        # Committed, not rolled back, although it only reads: psycopg forgets its prepared
        # statements at every ROLLBACK, and the job's queries would be parsed and planned
        # anew each time.
        with transaction():
            recipients = of_event_for(event_id, realtime.presence().online(), notified)
        realtime.emit_notifications(recipients)
    for result in results:
        if result.activity and result.rooms:
            realtime.emit_activity(result.rooms, result.activity)
