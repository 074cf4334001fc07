"""Writes of the mail capability: sending, and remembering the addresses that refuse mail."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from datetime import timedelta
from email.message import Message

import sqlalchemy as sa

from maillage.database import session, utcnow
from maillage.mail.addresses import normalise
from maillage.mail.connection import (
    Connection,
    PermanentFailure,
    SendFailure,
    TemporaryFailure,
)
from maillage.mail.models import ConfirmationMail, FailingAddress

# How many confirmation mails an address receives in a day, at most, and how long after one
# a repeated request sends nothing new (the first link still works).
CONFIRMATIONS_PER_DAY = 3
CONFIRMATION_GAP = timedelta(minutes=10)


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
