"""Writes of the mail capability: sending, remembering the addresses that refuse mail, and
the outbox of single mails (decided, tried, retried, done)."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from email.message import Message
from typing import Any

import sqlalchemy as sa
from flask import current_app

from maillage import queues
from maillage.database import session, utcnow
from maillage.jobs import Job
from maillage.mail.addresses import normalise
from maillage.mail.connection import (
    Connection,
    PermanentFailure,
    SendFailure,
    TemporaryFailure,
)
from maillage.mail.models import ConfirmationMail, FailingAddress, Kind, OutgoingMail, Status

# How many confirmation mails an address receives in a day, at most, and how long after one
# a repeated request sends nothing new (the first link still works).
CONFIRMATIONS_PER_DAY = 3
CONFIRMATION_GAP = timedelta(minutes=10)

# How long the job queued with a new mail has to take it before the sweep queues it again,
# and how long a sender has to try it.
QUEUED_LEASE = timedelta(seconds=30)
SENDING_LEASE = timedelta(minutes=2)
# A mail refused for now is tried again after each of queues.RETRY_INTERVALS, then after the
# last one again and again, until it is this old.
GIVE_UP_AFTER = timedelta(days=2)
# How long a mail done is kept, to tell what became of it.
KEEP_DONE = timedelta(days=7)


def decide_confirmation(email: str) -> int | None:
    """Record a confirmation mail to `email` and return its id, unless the address had one
    in the last minutes or its share of the day: then None, and the caller answers the same
    (the mail already sent holds a link that works)."""
    email, now = normalise(email), utcnow()
    sent = list(session.scalars(sa.select(ConfirmationMail.sent_at).where(
        ConfirmationMail.email == email, ConfirmationMail.sent_at > now - timedelta(days=1))))
    if len(sent) >= CONFIRMATIONS_PER_DAY or any(at > now - CONFIRMATION_GAP for at in sent):
        return None
    session.execute(sa.delete(ConfirmationMail).where(
        ConfirmationMail.email == email, ConfirmationMail.sent_at <= now - timedelta(days=1)))
    mail = ConfirmationMail(email=email, sent_at=now)
    session.add(mail)
    session.flush()
    return mail.id


def mark_failing(email: str, code: int, message: str) -> None:
    """Stop mailing `email`: a server refused it for good; the latest refusal is kept."""
    email = normalise(email)
    row = session.get(FailingAddress, email)
    if row is None:
        session.add(FailingAddress(email=email, code=code, message=message[:500]))
    else:
        row.code, row.message, row.failed_at = code, message[:500], utcnow()
    session.flush()


def clear_failing(email: str) -> None:
    """Mail `email` again, for instance once its owner confirmed it anew."""
    session.execute(sa.delete(FailingAddress).where(FailingAddress.email == normalise(email)))


def deliver(connection: Connection, message: Message) -> bool:
    """Send `message`; a permanent refusal marks its address failing and returns False.

    A temporary refusal raises `TemporaryFailure`, for the caller's job to be retried.
    """
    [(_message, failure)] = connection.send_each([message])
    if isinstance(failure, TemporaryFailure):
        raise failure
    return outcome(message, failure) is Outcome.SENT


class Outcome(enum.StrEnum):
    SENT = "sent"
    FAILING = "failing"
    RETRY = "retry"


def deliver_each(connection: Connection, messages: Iterable[Message]) -> Iterator[Outcome]:
    """Send `messages` in order over `connection`, saying how each went, as it is known.

    Permanent refusals mark their address failing; temporary ones come back as RETRY, for
    the caller to hand to a retried job.
    """
    for message, failure in connection.send_each(messages):
        yield outcome(message, failure)


def outcome(message: Message, failure: SendFailure | None) -> Outcome:
    """How the sending of `message` went, by the server's refusal (None: accepted); a
    permanent refusal marks the address failing."""
    if failure is None:
        return Outcome.SENT
    if isinstance(failure, PermanentFailure):
        mark_failing(str(message["To"]), failure.code, failure.message)
        return Outcome.FAILING
    return Outcome.RETRY


def queue_mail(kind: Kind, about: int, **args: Any) -> None:
    """Decide a mail of `kind` about the row `about`, in the current transaction; its job is
    queued once the transaction commits, and the sweep queues it again if that is lost."""
    queue_mails(kind, [about], **args)


def queue_mails(kind: Kind, abouts: Sequence[int], **args: Any) -> None:
    """Decide a mail of `kind` about each of `abouts`, as `queue_mail` does, in one INSERT
    (the immediate notices of a fan-out)."""
    if not abouts:
        return
    now = utcnow()
    ids = session.scalars(
        sa.insert(OutgoingMail).returning(OutgoingMail.id, sort_by_parameter_order=True),
        [{"kind": kind, "about": about, "args": args, "attempts": 0, "created_at": now,
          "lease_until": now + QUEUED_LEASE} for about in abouts]).all()
    for mail_id in ids:
        queues.enqueue_after_commit("mail", Job.SEND_MAIL, mail_id, 0, job_id=f"mail-{mail_id}-0")


def claim(mail_id: int, attempt: int) -> OutgoingMail | None:
    """Take the try `attempt` of a mail to send it, for SENDING_LEASE; None when the mail is
    done, or a job for the same try took it first."""
    taken = session.execute(
        sa.update(OutgoingMail)
        .where(OutgoingMail.id == mail_id, OutgoingMail.status.is_(None),
               OutgoingMail.attempts == attempt)
        .values(attempts=attempt + 1, lease_until=utcnow() + SENDING_LEASE)).rowcount
    return session.get(OutgoingMail, mail_id, populate_existing=True) if taken else None


def finish(mail_id: int, status: Status, error: str | None = None) -> None:
    session.execute(sa.update(OutgoingMail).where(OutgoingMail.id == mail_id)
                    .values(status=status, done_at=utcnow(),
                            error=error[:500] if error else None))


def retry_later(mail_id: int, error: str) -> float | None:
    """After a try that failed for now, say when the next one is due; return its delay in
    seconds, or None when the mail was tried for too long and is given up."""
    mail = session.get(OutgoingMail, mail_id, populate_existing=True)
    assert mail is not None
    now = utcnow()
    if now - mail.created_at > GIVE_UP_AFTER:
        finish(mail_id, Status.FAILED, f"given up: {error}")
        return None
    intervals = queues.RETRY_INTERVALS
    delay = intervals[min(mail.attempts, len(intervals)) - 1] \
        * current_app.config.get("JOB_RETRY_SCALE", 1.0)
    mail.lease_until, mail.error = now + timedelta(seconds=delay), error[:500]
    session.flush()
    return delay


def record_verdict(mail_id: int, message: Message, failure: SendFailure | None) -> float | None:
    """Record what the server said of a mail: sent, its address failing (a permanent
    refusal), or its next try; return the delay before that try, None when there is none."""
    verdict = outcome(message, failure)
    if verdict is Outcome.RETRY:
        return retry_later(mail_id, str(failure))
    finish(mail_id, Status.SENT if verdict is Outcome.SENT else Status.FAILED,
           None if failure is None else str(failure))
    return None


def take_expired(now: datetime, limit: int, *, all_pending: bool = False) -> list[tuple[int, int]]:
    """Lease to a new job each mail to send that nobody answers for any more (every one to
    send, with `all_pending`), oldest first; return their ids and tries. Forget, meanwhile,
    the mails done long ago."""
    session.execute(sa.delete(OutgoingMail).where(OutgoingMail.done_at < now - KEEP_DONE))
    query = sa.select(OutgoingMail.id, OutgoingMail.attempts).where(
        OutgoingMail.status.is_(None))
    if not all_pending:
        query = query.where(OutgoingMail.lease_until <= now)
    rows = [(mail_id, attempts) for mail_id, attempts
            in session.execute(query.order_by(OutgoingMail.id).limit(limit))]
    if rows:
        session.execute(sa.update(OutgoingMail)
                        .where(OutgoingMail.id.in_([mail_id for mail_id, _ in rows]))
                        .values(lease_until=now + QUEUED_LEASE))
    return rows
