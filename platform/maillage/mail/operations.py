"""Writes of the mail capability: sending, and remembering the addresses that refuse mail."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from email.message import Message

import sqlalchemy as sa

from maillage.database import session, utcnow
from maillage.mail.models import FailingAddress
from maillage.mail.transport import Connection, PermanentFailure, TemporaryFailure


def mark_failing(email: str, code: int, message: str) -> None:
    """Stop mailing `email`: a server refused it for good; the latest refusal is kept."""
    row = session.get(FailingAddress, email)
    if row is None:
        session.add(FailingAddress(email=email, code=code, message=message[:500]))
    else:
        row.code, row.message, row.failed_at = code, message[:500], utcnow()
    session.flush()


def clear_failing(email: str) -> None:
    """Mail `email` again, for instance once its owner confirmed it anew."""
    session.execute(sa.delete(FailingAddress).where(FailingAddress.email == email))


def deliver(connection: Connection, message: Message) -> bool:
    """Send `message`; a permanent refusal marks its address failing and returns False.

    A temporary refusal raises `TemporaryFailure`, for the caller's job to be retried.
    """
    try:
        connection.send(message)
    except PermanentFailure as failure:
        mark_failing(str(message["To"]), failure.code, failure.message)
        return False
    return True


class Outcome(enum.StrEnum):
    SENT = "sent"
    FAILING = "failing"
    RETRY = "retry"


def deliver_all(connection: Connection, messages: Iterable[Message]) -> list[Outcome]:
    """Send `messages` in order over `connection`, saying how each went.

    One after the other: a thread sending while the next message was built gained nothing,
    since it waited for the GIL after each of the server's answers, and it cost CPU
    (bench/digests.py). Permanent refusals mark their address failing; temporary ones come
    back as RETRY, for the caller to hand to a retried job.
    """
    outcomes = []
    for message in messages:
        try:
            outcomes.append(Outcome.SENT if deliver(connection, message) else Outcome.FAILING)
        except TemporaryFailure:
            outcomes.append(Outcome.RETRY)
    return outcomes
