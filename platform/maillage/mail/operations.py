"""Writes of the mail capability: sending, and remembering the addresses that refuse mail."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
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

    A thread sends while the caller's generator builds the next message, so the server's
    time and ours overlap instead of adding up. Permanent refusals mark their address failing;
    temporary ones come back as RETRY, for the caller to hand to a retried job.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mail") as sender:
        pending = [(str(message["To"]), sender.submit(connection.send, message))
                   for message in messages]
        outcomes = []
        for address, sent in pending:
            try:
                sent.result()
            except PermanentFailure as failure:
                mark_failing(address, failure.code, failure.message)
                outcomes.append(Outcome.FAILING)
            except TemporaryFailure:
                outcomes.append(Outcome.RETRY)
            else:
                outcomes.append(Outcome.SENT)
    return outcomes
