"""A digest run: every recipient of a frequency, batch by batch, over one SMTP connection.

Nothing lost, nothing doubled. A batch's digests are recorded (claimed, unique per recipient
and period) and leased in one short transaction, which commits before any of them goes out:
no transaction is open while the SMTP server works, so SQLite's write lock is not held while
mail leaves. Each digest is then marked sent as soon as the server accepted it, and only
then (`_Marker`). A run that dies leaves leased digests unsent: once their
lease has run out, the next run of the frequency or the sweep (`resend_expired`) sends them,
with the window and the Message-ID they were claimed with. Each window ends at a snapshot of
the commits taken as the run began, and the next starts there (`emails.windows`).

A batch costs the same few queries whatever its size: the recipients, their previous
digests, what happened in their windows, one INSERT that claims the digests; then the
UPDATEs marking them sent, from a thread of their own. A digest refused for now (4xx) goes to
a job that RQ retries.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import Message

from flask import current_app

from maillage import queues
from maillage.database import autocommit, transaction, utcnow
from maillage.emails import operations
from maillage.emails.messages import digest_message
from maillage.emails.models import Digest, Frequency
from maillage.emails.periods import period_end
from maillage.emails.queries import SOURCES, Context, Recipient, Source, set_windows
from maillage.emails.windows import Snapshot, Window, taken
from maillage.jobs import Job
from maillage.mail.connection import Connection, TemporaryFailure
from maillage.mail.operations import GIVE_UP_AFTER, Outcome, outcome
from maillage.mail.transport import transport

log = logging.getLogger(__name__)

BATCH = 500


@dataclass
class Report:
    """What a run did; with `dry_run`, `planned` lists (address, items) instead of sending.
    `resent` counts the digests of earlier runs sent again (their run had died); a sweep's
    report is of no frequency."""

    frequency: Frequency | None
    period_end: datetime
    recipients: int = 0
    sent: int = 0
    empty: int = 0
    already_sent: int = 0
    retrying: int = 0
    failing: int = 0
    resent: int = 0
    planned: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class Claimed:
    """A digest recorded and leased, ready to go out."""

    digest_id: int
    letter: str
    frequency: Frequency
    reader: Recipient


def count_recipients(frequency: Frequency) -> int:
    """How many recipients a run of `frequency` goes through (for a progress bar)."""
    with transaction():
        return sum(source.count(frequency) for source in SOURCES.values())


def _lease() -> timedelta:
    return timedelta(seconds=current_app.config["DIGEST_LEASE"])


def send_digests(frequency: Frequency, *, now: datetime, dry_run: bool = False,
                 batch_size: int = BATCH,
                 progress: Callable[[int], None] | None = None) -> Report:
    """Send the digests of the period of `frequency` that ended last before `now`, after
    those of earlier runs left unsent past their lease."""
    end = period_end(frequency, now)
    report = Report(frequency, end)
    with transaction():
        # Before anything is read: what commits from now on goes in the next digests.
        ends = {source.letter: taken(source.model) for source in SOURCES.values()}
        context = Context()
        if not dry_run and frequency is Frequency.DAILY:
            operations.forget_unconfirmed(now)
    with transport().connect() as connection:
        if not dry_run:
            report.resent = _resend(connection, context, report, frequency=frequency)
        for source in SOURCES.values():
            after = 0
            while batch := _claim_batch(source, frequency, after, batch_size, end,
                                        ends[source.letter], context, report, dry_run):
                if not dry_run:
                    _send(connection, context, batch.claimed, report)
                if progress is not None:
                    progress(batch.size)
                after = batch.last_id
    return report


@dataclass
class Batch:
    size: int
    last_id: int
    claimed: list[Claimed]


def _claim_batch(source: Source, frequency: Frequency, after: int, size: int, end: datetime,
                 window_end: Snapshot, context: Context, report: Report,
                 dry_run: bool) -> Batch | None:
    with transaction():
        recipients = source.batch(frequency, after, size)
        if not recipients:
            return None
        set_windows(source, recipients, frequency, end, window_end)
        source.fill(recipients, context)
        report.recipients += len(recipients)
        waiting = [r for r in recipients if r.window is not None]
        report.already_sent += len(recipients) - len(waiting)
        ready = [r for r in waiting if r.items]
        report.empty += len(waiting) - len(ready)
        if dry_run:
            report.planned += [(r.email, len(r.items)) for r in ready]
            return Batch(len(recipients), recipients[-1].id, [])
        claimed = operations.claim_digests(
            source.key, frequency, end, str(window_end),
            [operations.Claim(r.id, r.window.floor,
                              str(r.window.start) if r.window.start else None, len(r.items))
             for r in waiting if r.window is not None],
            utcnow() + _lease())
        report.already_sent += len(ready) - len(claimed)
        return Batch(len(recipients), recipients[-1].id,
                     [Claimed(claimed[r.id], source.letter, frequency, r)
                      for r in ready if r.id in claimed])


def _send(connection: Connection, context: Context, claimed: list[Claimed], report: Report,
          *, alone: bool = False) -> None:
    """Send claimed digests, each marked as the server answered it, outside any transaction.

    A digest refused for now goes to a retried job (`alone`: the job sending it raises, for
    RQ to retry it). When a digest cannot be built, those sent stay sent and the others go
    to retried jobs, each alone.
    """

    def messages() -> Iterator[Message]:
        for one in claimed:
            yield digest_message(one.letter, one.reader, one.frequency, context, one.digest_id)

    done = 0
    try:
        marker = _Marker()
        try:
            for (message, failure), one in zip(connection.send_each(messages()), claimed,
                                               strict=True):
                if failure is None:
                    marker.sent(one.digest_id)
                    result = Outcome.SENT
                else:
                    with transaction():
                        result = outcome(message, failure)
                        if result is Outcome.FAILING:
                            operations.settle_digests([one.digest_id])
                        else:
                            operations.release_digests([one.digest_id])
                            if not alone:
                                queues.enqueue_after_commit(
                                    "mail", Job.SEND_DIGEST, one.digest_id,
                                    job_id=f"digest-{one.digest_id}")
                done += 1
                report.sent += result is Outcome.SENT
                report.failing += result is Outcome.FAILING
                report.retrying += result is Outcome.RETRY
                if alone and isinstance(failure, TemporaryFailure):
                    raise failure
        finally:
            marker.close()
    except Exception:
        if not alone:
            with transaction():
                left = [one.digest_id for one in claimed[done:]]
                operations.release_digests(left)
                for digest_id in left:
                    queues.enqueue_after_commit("mail", Job.SEND_DIGEST, digest_id,
                                                job_id=f"digest-{digest_id}")
        raise


class _Marker:
    """Marks digests sent, from a thread of its own, as soon as the server accepted each.

    A commit a digest, each its own round trip to the database (milliseconds on a busy
    machine), would add to every digest; from here it overlaps the building and sending of
    the next ones, and each commit marks all those accepted since the last. A run that dies
    so sends again only the few accepted meanwhile, with their Message-IDs. PostgreSQL does
    not wait for these commits to reach the disk: a server crash may forget the last few,
    sent again the same way.
    """

    def __init__(self) -> None:
        self.app = current_app._get_current_object()  # type: ignore[attr-defined]
        self.accepted: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self.error: Exception | None = None
        self.thread = threading.Thread(target=self._mark, name="digest-marks", daemon=True)
        self.thread.start()

    def sent(self, digest_id: int) -> None:
        self.accepted.put(digest_id)

    def close(self) -> None:
        """Wait for the last marks; raise what stopped the thread, if anything did."""
        self.accepted.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error

    def _mark(self) -> None:
        try:
            with self.app.app_context(), autocommit(flush_to_disk=False):
                while True:
                    ids = [self.accepted.get()]
                    while not self.accepted.empty():
                        ids.append(self.accepted.get())
                    operations.mark_digests_sent([i for i in ids if i is not None])
                    if None in ids:
                        return
        except Exception as error:  # raised again by `close`, in the run's thread
            self.error = error


def _take(context: Context, now: datetime, *, ids: list[int] | None = None,
          frequency: Frequency | None = None, after: int = 0) -> list[Claimed]:
    """Lease digests left unsent past their lease, the next ones after id `after`, and
    rebuild them as they were claimed; those whose reader mail may no longer reach, with
    nothing left to say, or refused for now for longer than any mail is tried (GIVE_UP_AFTER),
    are sent no more."""
    with transaction():
        rows = operations.lease_digests(now, now + _lease(), ids=ids, frequency=frequency,
                                        after=after)
        claimed: list[Claimed] = []
        gone = [row.id for row in rows if now - row.created_at > GIVE_UP_AFTER]
        if gone:
            log.warning("Digests %s given up: refused for now for over %s", gone, GIVE_UP_AFTER)
        rows = [row for row in rows if row.id not in gone]
        for source in SOURCES.values():
            mine = [row for row in rows if getattr(row, source.key) is not None]
            if not mine:
                continue
            readers = {r.id: r for r in source.some([getattr(row, source.key) for row in mine])}
            rebuilt: list[tuple[Digest, Recipient]] = []
            for row in mine:
                reader = readers.get(getattr(row, source.key))
                if reader is None or row.window_to is None:
                    gone.append(row.id)
                    continue
                reader.window = Window(
                    Snapshot.parse(row.window_from) if row.window_from else None,
                    row.window_start, Snapshot.parse(row.window_to))
                rebuilt.append((row, reader))
            source.fill([reader for _row, reader in rebuilt], context)
            for row, reader in rebuilt:
                if reader.items:
                    claimed.append(Claimed(row.id, source.letter, row.frequency, reader))
                else:
                    gone.append(row.id)
        operations.settle_digests(gone)
    return sorted(claimed, key=lambda one: one.digest_id)


def _resend(connection: Connection, context: Context, report: Report, *,
            frequency: Frequency | None = None) -> int:
    """Send the digests of `frequency` (of any, when None) left unsent past their lease,
    each once (one refused again goes to its retried job); return how many went out."""
    sent_before, after = report.sent, 0
    while claimed := _take(context, utcnow(), frequency=frequency, after=after):
        _send(connection, context, claimed, report)
        after = claimed[-1].digest_id
    return report.sent - sent_before


def resend_expired() -> int:
    """The sweep: send the digests of every frequency left unsent past their lease (their run
    died); return how many went out."""
    with transaction():
        context = Context()
    with transport().connect() as connection:
        return _resend(connection, context, Report(None, utcnow()))


def send_one_digest(digest_id: int) -> bool:
    """Send a digest refused for now, unless it was sent or is leased to another run; a new
    refusal for now raises `TemporaryFailure`, for RQ to retry the job."""
    with transaction():
        context = Context()
    claimed = _take(context, utcnow(), ids=[digest_id])
    if not claimed:
        return False
    report = Report(claimed[0].frequency, utcnow())
    with transport().connect() as connection:
        _send(connection, context, claimed, report, alone=True)
    return report.sent == 1
