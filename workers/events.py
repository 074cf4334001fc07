"""The job that processes an event of the outbox: its reactions, then live delivery.

What an event causes is declared by its feature (`maillage.reactions`); this only runs it.
It is safe to run twice, at once or one after the other: the event row is locked while it is
processed, a processed event is skipped, and notifications are unique per event and person.
Each run counts a try in the event's row, committed before the reactions run, so that a run
killing its worker counts too. A failed try raises, so that RQ (or the sweeper) tries again
later; the EVENT_MAX_TRIES-th marks the event failed with its error and returns, and nobody
tries it again until it is replayed. An event of a kind nobody declares fails too, rather than
passing as processed.

A first try takes along up to EVENT_BATCH - 1 events nobody has tried yet (a backlog, under
load), in the same transaction, while their notifications stay under BATCH_NOTIFICATIONS; once
it commits, their own jobs, still queued, are dropped. When anything in the batch fails, the
batch changes nothing and the event is processed alone: each other event is then tried by its
own job, which is still queued, so the failure path is the one without batches.
"""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass

from maillage import events, reactions, realtime
from maillage.database import transaction
from maillage.notifications.queries import of_event_for
from maillage.reactions import Fanout
from workers.context import job_app

log = logging.getLogger(__name__)

# A batch stops taking events once they have made this many notifications: a few fan-outs to
# tens of thousands of followers are not held in one transaction.
BATCH_NOTIFICATIONS = 1000


@dataclass(frozen=True)
class Outcome:
    """What a run did, kept by RQ as the job's result and logged: the fan-out's vital signs."""

    events: int
    notified: int
    persisted_seconds: float
    delivered_seconds: float


NOTHING = Outcome(0, 0, 0.0, 0.0)


@dataclass(frozen=True)
class Ran:
    """What the reactions of one processed event did."""

    kind: str
    fanouts: list[Fanout]

    @property
    def notified(self) -> int:
        return sum(fanout.notified for fanout in self.fanouts)


Processed = dict[int, Ran]  # by event id


def process_event(event_id: int) -> Outcome:
    """Notify the people event `event_id` concerns (and those of the untried events it takes
    along), then tell their open pages."""
    started = time.perf_counter()
    app = job_app()
    with app.app_context():
        max_tries = app.config["EVENT_MAX_TRIES"]
        with transaction():
            tries = events.count_try(event_id, max_tries)
        if tries is None:
            return NOTHING
        processed = None
        if tries == 1 and app.config["EVENT_BATCH"] > 1:
            try:
                processed = _process(event_id, app.config["EVENT_BATCH"])
            except Exception:
                log.warning("A batch of event %s failed: the event runs alone, the others "
                            "by their own jobs", event_id, exc_info=True,
                            extra={"event_id": event_id})
        if processed is None:
            try:
                processed = _process(event_id, 1)
            except Exception:
                final = tries >= max_tries
                with transaction():
                    events.note_failure(event_id, traceback.format_exc(), final=final)
                if not final:
                    raise
                log.exception("Event %s failed for good after %d tries", event_id, tries)
                return NOTHING
        persisted = time.perf_counter() - started
        # Live messages only once the notifications are committed, and only by the run that
        # processed the event: a second run stops above and sends nothing twice.
        _deliver(processed)
        app.extensions["maillage.queues"].forget(
            "events", [f"event-{other}" for other in processed if other != event_id])
    if not processed:
        return NOTHING
    outcome = Outcome(len(processed), sum(ran.notified for ran in processed.values()),
                      persisted, time.perf_counter() - started)
    kind = processed[event_id].kind
    others = f" and {outcome.events - 1} more" if outcome.events > 1 else ""
    log.info("Event %s (%s)%s: %d notified, persisted in %.3f s, delivered in %.3f s",
             event_id, kind, others, outcome.notified, outcome.persisted_seconds,
             outcome.delivered_seconds, extra={"event_id": event_id, "kind": kind})
    return outcome


def _process(event_id: int, size: int) -> Processed:
    """Run the reactions of event `event_id` and of up to `size - 1` untried others, in one
    transaction; return what each did ({} when `event_id` is not to process)."""
    processed: Processed = {}
    with transaction():
        notified = 0
        for event in events.take_batch(event_id, size):
            if notified >= BATCH_NOTIFICATIONS:
                break  # the rest stay locked until the commit, then go to their own jobs
            happened = event.as_domain()
            processed[event.id] = Ran(event.kind, [handle(event, happened)
                                                   for handle in reactions.handlers_of(event.kind)])
            notified += processed[event.id].notified
        if processed:
            events.mark_processed(event_id, processed)
    return processed


def _deliver(processed: Processed) -> None:
    """Tell the people with a page open, and the public rooms.

    Only connected people get a message: a fan-out to 100,000 followers costs a message per
    connected follower, all of a batch in one Redis message, and one query an event for
    their notification ids.
    """
    fanouts = {event_id: ran.notified for event_id, ran in processed.items() if ran.notified}
    if fanouts:
        online = realtime.presence().online()
        # Committed, not rolled back, although it only reads: psycopg forgets its prepared
        # statements at every ROLLBACK, and the job's queries would be parsed and planned
        # anew each time.
        with transaction():
            recipients = [pair for event_id, notified in fanouts.items()
                          for pair in of_event_for(event_id, online, notified).items()]
        realtime.emit_notifications(recipients)
    for ran in processed.values():
        for fanout in ran.fanouts:
            if fanout.activity and fanout.rooms:
                realtime.emit_activity(fanout.rooms, fanout.activity)
