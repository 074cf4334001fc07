"""A digest run: every recipient of a frequency, batch by batch, over one SMTP connection.

Each batch costs the same few queries whatever its size: the recipients, their previous
digests, what happened in their windows, one INSERT that claims the digests, one UPDATE that
marks them sent. A digest is claimed (recorded, unique per recipient and period) before it is
sent, so a run retried or run twice sends nothing twice; a digest refused for now (4xx) is
handed to a job that RQ retries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from maillage import queues
from maillage.database import session, transaction
from maillage.emails import operations
from maillage.emails.messages import digest_message
from maillage.emails.models import Digest, Frequency
from maillage.emails.periods import period_end
from maillage.emails.queries import SOURCES, Context, Recipient, Source, set_windows
from maillage.jobs import Job
from maillage.mail.connection import Connection
from maillage.mail.operations import Outcome, deliver, deliver_each
from maillage.mail.queries import is_failing
from maillage.mail.transport import transport

BATCH = 500


@dataclass
class Report:
    """What a run did; with `dry_run`, `planned` lists (address, items) instead of sending."""

    frequency: Frequency
    period_end: datetime
    recipients: int = 0
    sent: int = 0
    empty: int = 0
    already_sent: int = 0
    retrying: int = 0
    failing: int = 0
    planned: list[tuple[str, int]] = field(default_factory=list)


def count_recipients(frequency: Frequency) -> int:
    """How many recipients a run of `frequency` goes through (for a progress bar)."""
    with transaction():
        return sum(source.count(frequency) for source in SOURCES.values())


def send_digests(frequency: Frequency, *, now: datetime, dry_run: bool = False,
                 batch_size: int = BATCH,
                 progress: Callable[[int], None] | None = None) -> Report:
    """Send the digests of the period of `frequency` that ended last before `now`."""
    end = period_end(frequency, now)
    report = Report(frequency, end)
    with transaction():
        context = Context(end)
        if not dry_run and frequency is Frequency.DAILY:
            operations.forget_unconfirmed(now)
    with transport().connect() as connection:
        for source in SOURCES.values():
            after = 0
            while batch := _claim_batch(source, frequency, after, batch_size, context, report,
                                        dry_run):
                if not dry_run:
                    _send_batch(connection, source, frequency, batch, context, report)
                if progress is not None:
                    progress(batch.size)
                after = batch.last_id
    return report


@dataclass
class Batch:
    size: int
    last_id: int
    ready: list[Recipient]
    digest_ids: dict[int, int]


def _claim_batch(source: Source, frequency: Frequency, after: int, size: int,
                 context: Context, report: Report, dry_run: bool) -> Batch | None:
    with transaction():
        recipients = source.batch(frequency, after, size)
        if not recipients:
            return None
        set_windows(source, recipients, frequency, context.end)
        source.fill(recipients, context)
        report.recipients += len(recipients)
        report.already_sent += sum(r.start is None for r in recipients)
        ready = [r for r in recipients if r.items]
        report.empty += sum(r.start is not None and not r.items for r in recipients)
        if dry_run:
            report.planned += [(r.email, len(r.items)) for r in ready]
            return Batch(len(recipients), recipients[-1].id, [], {})
        claimed = operations.claim_digests(source.key, frequency, context.end,
                                           [(r.id, r.start, len(r.items)) for r in ready])
        report.already_sent += len(ready) - len(claimed)
        return Batch(len(recipients), recipients[-1].id,
                     [r for r in ready if r.id in claimed], claimed)


def _send_batch(connection: Connection, source: Source, frequency: Frequency, batch: Batch,
                context: Context, report: Report) -> None:
    digest_ids = [batch.digest_ids[reader.id] for reader in batch.ready]
    outcomes: list[Outcome] = []
    try:
        with transaction():
            outcomes.extend(deliver_each(connection, (
                digest_message(source.letter, reader, frequency, context)
                for reader in batch.ready)))
            _record(digest_ids, outcomes)
    except Exception:
        # Building or sending stopped midway (a digest that cannot be rendered, say): the
        # digests are claimed, so a run would not send them again. What went out is marked
        # sent; the rest, the one in flight included, goes to retried jobs, each alone.
        with transaction():
            _record(digest_ids, outcomes + [Outcome.RETRY] * (len(digest_ids) - len(outcomes)))
        raise
    report.sent += outcomes.count(Outcome.SENT)
    report.failing += outcomes.count(Outcome.FAILING)
    report.retrying += outcomes.count(Outcome.RETRY)


def _record(digest_ids: list[int], outcomes: list[Outcome]) -> None:
    """Mark the digests sent, and hand those refused for now to a retried job each."""
    for digest_id, outcome in zip(digest_ids, outcomes, strict=True):
        if outcome is Outcome.RETRY:
            queues.enqueue_after_commit("mail", Job.SEND_DIGEST, digest_id,
                                        job_id=f"digest-{digest_id}")
    operations.mark_digests_sent([digest_id for digest_id, outcome
                                  in zip(digest_ids, outcomes, strict=True)
                                  if outcome is Outcome.SENT])


def send_one_digest(digest_id: int) -> bool:
    """Send a recorded digest not sent yet (a retry); False when there is nothing to send."""
    with transaction():
        digest = session.get(Digest, digest_id)
        if digest is None or digest.sent_at is not None:
            return False
        letter = "u" if digest.user_id is not None else "s"
        source = SOURCES[letter]
        reader = source.one(digest.user_id or digest.subscription_id or 0)
        if reader is None or is_failing(reader.email):
            return False
        reader.start = digest.window_start
        context = Context(digest.period_end)
        source.fill([reader], context)
        with transport().connect() as connection:
            delivered = deliver(connection, digest_message(letter, reader, digest.frequency,
                                                           context))
        if delivered:
            operations.mark_digests_sent([digest_id])
        return delivered
