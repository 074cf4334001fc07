"""A digest run: every recipient of a frequency, batch by batch, over SMTP_CONNECTIONS
SMTP connections at once.

Nothing lost, nothing doubled. A batch's digests are recorded (claimed, unique per recipient
and period) and leased in one short transaction, which commits before any of them goes out:
no transaction is open while the SMTP server works, so SQLite's write lock is not held while
mail leaves. Each digest is then marked sent as soon as the server accepted it, and only
then (`_Marker`); a sender waits for that mark before it hands the server its next digest,
so that no more digests than connections can be accepted and not yet marked. The batches
are claimed in the run's thread and sent by `_Senders`, each over a connection of its own.
A run that dies leaves leased digests unsent: once their
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
from maillage.emails.queries import (
    SOURCES,
    WHOLE,
    Context,
    Part,
    Recipient,
    Source,
    set_windows,
)
from maillage.emails.windows import Snapshot, Window, taken
from maillage.jobs import Job
from maillage.mail.connection import Connection, TemporaryFailure
from maillage.mail.operations import GIVE_UP_AFTER, Outcome, outcome
from maillage.mail.transport import transport

log = logging.getLogger(__name__)

BATCH = 500
# Digests the server accepted that may wait for their mark: a run that dies sends them again.
UNMARKED = 16
# How long the marks may wait for more digests to mark in the same UPDATE.
MARK_WAIT = 0.05


def most_sent_twice(connections: int) -> int:
    """How many digests a run over `connections` that dies may have sent and not marked."""
    return UNMARKED + connections


# One lock for every report's counts, not one each: a report is the job's result, which RQ
# pickles, and a lock cannot be pickled.
_COUNTING = threading.Lock()


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

    def count(self, result: Outcome) -> None:
        """Count a digest's outcome (from any of the run's senders)."""
        with _COUNTING:
            self.sent += result is Outcome.SENT
            self.failing += result is Outcome.FAILING
            self.retrying += result is Outcome.RETRY


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
                 batch_size: int = BATCH, part: Part = WHOLE,
                 progress: Callable[[int], None] | None = None) -> Report:
    """Send the digests of the period of `frequency` that ended last before `now` to the
    recipients of `part`, after those of earlier runs left unsent past their lease (the
    first part sends these)."""
    end = period_end(frequency, now)
    report = Report(frequency, end)
    first = part.number == 0
    with transaction():
        # Before anything is read: what commits from now on goes in the next digests.
        ends = {source.letter: taken(source.model) for source in SOURCES.values()}
        context = Context()
        if not dry_run and first and frequency is Frequency.DAILY:
            operations.forget_unconfirmed(now)
    with _Senders(context, report) as senders:
        if not dry_run and first:
            report.resent = _resend(senders, context, report, frequency=frequency)
        for source in SOURCES.values():
            after = 0
            while not senders.failed and (batch := _claim_batch(
                    source, frequency, part, after, batch_size, end, ends[source.letter],
                    context, report, dry_run)):
                if not dry_run:
                    senders.submit(batch.claimed)
                if progress is not None:
                    progress(batch.size)
                after = batch.last_id
    return report


@dataclass
class Batch:
    size: int
    last_id: int
    claimed: list[Claimed]


def _claim_batch(source: Source, frequency: Frequency, part: Part, after: int, size: int,
                 end: datetime, window_end: Snapshot, context: Context, report: Report,
                 dry_run: bool) -> Batch | None:
    with transaction():
        recipients = source.batch(frequency, after, size, part)
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


def _send(connection: Connection, context: Context, claimed: list[Claimed], marker: _Marker,
          report: Report, *, alone: bool = False) -> None:
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
        for (message, failure), one in zip(connection.send_each(messages()), claimed,
                                           strict=True):
            if failure is None:
                # Waits for the mark: this connection hands over its next digest only then.
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
            report.count(result)
            if alone and isinstance(failure, TemporaryFailure):
                raise failure
    except Exception:
        if not alone:
            _to_jobs(claimed[done:])
        raise


def _to_jobs(claimed: list[Claimed]) -> None:
    """Hand digests claimed but not sent to retried jobs, each alone."""
    with transaction():
        left = [one.digest_id for one in claimed]
        operations.release_digests(left)
        for digest_id in left:
            queues.enqueue_after_commit("mail", Job.SEND_DIGEST, digest_id,
                                        job_id=f"digest-{digest_id}")


class _Senders:
    """The run's SMTP connections (SMTP_CONNECTIONS), each sending from a thread of its own
    the batches the run's thread claims, one batch at a time.

    The server works on several digests at once, and while one thread waits for an answer
    or a mark, another builds. At most one batch a connection waits, claimed, to be sent:
    the claims keep just ahead of the sending, well within their lease. After an error, the
    run claims no more; the batches waiting go to retried jobs, and the first error is
    raised again in the run's thread as the senders close.
    """

    def __init__(self, context: Context, report: Report, *, connections: int | None = None,
                 alone: bool = False) -> None:
        self.app = current_app._get_current_object()  # type: ignore[attr-defined]
        self.context, self.report, self.alone = context, report, alone
        count = connections or self.app.config["SMTP_CONNECTIONS"]
        self.work: queue.Queue[list[Claimed] | None] = queue.Queue(maxsize=count)
        self.errors: list[Exception] = []
        self.marker = _Marker()
        self.threads = [threading.Thread(target=self._serve, name=f"digest-sender-{n}",
                                         daemon=True) for n in range(count)]
        for thread in self.threads:
            thread.start()

    @property
    def failed(self) -> bool:
        return bool(self.errors)

    def submit(self, claimed: list[Claimed]) -> None:
        """Give a batch to the next free connection (waiting while each has one waiting)."""
        if claimed:
            self.work.put(claimed)

    def wait(self) -> None:
        """Wait until every batch submitted went out (or to its jobs)."""
        self.work.join()

    def __enter__(self) -> _Senders:
        return self

    def __exit__(self, *exc: object) -> None:
        for _thread in self.threads:
            self.work.put(None)
        for thread in self.threads:
            thread.join()
        self.marker.close()
        if self.errors and exc[0] is None:
            raise self.errors[0]

    def _serve(self) -> None:
        with self.app.app_context():
            try:
                with transport().connect() as connection:
                    while (claimed := self.work.get()) is not None:
                        try:
                            if self.errors:
                                _to_jobs(claimed)
                            else:
                                _send(connection, self.context, claimed, self.marker,
                                      self.report, alone=self.alone)
                        except Exception as error:  # raised again by __exit__
                            self.errors.append(error)
                        finally:
                            self.work.task_done()
            except Exception as error:  # the connection would not close
                self.errors.append(error)


class _Marker:
    """Marks digests sent, from a thread of its own, as soon as the server accepted each.

    A commit a digest, each its own round trip to the database (milliseconds on a busy
    machine), made by each sender would stop them all in turn on the database; from here,
    each commit marks all those accepted since the last, from every connection. A sender
    goes on while fewer than `UNMARKED` digests wait for their mark, and waits otherwise
    (`sent`): a run that dies so leaves at most `UNMARKED` + one a connection accepted and
    not marked (`most_sent_twice`), sent again with their Message-IDs, however far the
    database falls behind. Waiting for each digest's own mark held every connection for a
    commit per digest, a third of the run's rate (bench/README.md). PostgreSQL does not wait
    for these commits to reach the disk: a server crash may forget the last few, sent again
    the same way.
    """

    def __init__(self) -> None:
        self.app = current_app._get_current_object()  # type: ignore[attr-defined]
        self.changed = threading.Condition()
        self.accepted: list[int] = []  # not yet marked
        self.handed = self.marked = 0  # counts since the start
        self.closing = False
        self.error: Exception | None = None
        self.thread = threading.Thread(target=self._mark, name="digest-marks", daemon=True)
        self.thread.start()

    def sent(self, digest_id: int) -> None:
        """Have `digest_id` marked sent; return once fewer than `UNMARKED` digests wait for
        their mark (raise what stopped the marks)."""
        with self.changed:
            self.accepted.append(digest_id)
            self.handed += 1
            self.changed.notify_all()
            while self.handed - self.marked > UNMARKED and self.error is None:
                self.changed.wait()
            if self.error is not None:
                raise self.error

    def close(self) -> None:
        """Wait for the last marks; raise what stopped the thread, if anything did."""
        with self.changed:
            self.closing = True
            self.changed.notify_all()
        self.thread.join()
        if self.error is not None:
            raise self.error

    def _mark(self) -> None:
        try:
            with self.app.app_context(), autocommit(flush_to_disk=False):
                while True:
                    with self.changed:
                        # A few at a time, or what came within MARK_WAIT: one UPDATE each.
                        self.changed.wait_for(lambda: self.accepted or self.closing)
                        self.changed.wait_for(
                            lambda: len(self.accepted) >= UNMARKED // 2 or self.closing,
                            timeout=MARK_WAIT)
                        ids, self.accepted = self.accepted, []
                    if not ids:
                        return
                    operations.mark_digests_sent(ids)
                    with self.changed:
                        self.marked += len(ids)
                        self.changed.notify_all()
        except Exception as error:  # raised again by `sent` and `close`
            with self.changed:
                self.error = error
                self.changed.notify_all()


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


def _resend(senders: _Senders, context: Context, report: Report, *,
            frequency: Frequency | None = None) -> int:
    """Send the digests of `frequency` (of any, when None) left unsent past their lease,
    each once (one refused again goes to its retried job); return how many went out."""
    sent_before, after = report.sent, 0
    while not senders.failed and (claimed := _take(context, utcnow(), frequency=frequency,
                                                   after=after)):
        senders.submit(claimed)
        after = claimed[-1].digest_id
    senders.wait()
    return report.sent - sent_before


def resend_expired() -> int:
    """The sweep: send the digests of every frequency left unsent past their lease (their run
    died); return how many went out."""
    with transaction():
        context = Context()
    report = Report(None, utcnow())
    with _Senders(context, report) as senders:
        return _resend(senders, context, report)


def send_one_digest(digest_id: int) -> bool:
    """Send a digest refused for now, unless it was sent or is leased to another run; a new
    refusal for now raises `TemporaryFailure`, for RQ to retry the job."""
    with transaction():
        context = Context()
    claimed = _take(context, utcnow(), ids=[digest_id])
    if not claimed:
        return False
    report = Report(claimed[0].frequency, utcnow())
    with _Senders(context, report, connections=1, alone=True) as senders:
        senders.submit(claimed)
    return report.sent == 1
