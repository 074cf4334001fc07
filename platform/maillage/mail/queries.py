"""Reads of the mail capability, and the gauges of its outbox."""

from __future__ import annotations

import sqlalchemy as sa

from maillage import gauges
from maillage.database import session
from maillage.mail.addresses import normalise
from maillage.mail.models import FailingAddress, OutgoingMail, Status


def is_failing(email: str) -> bool:
    """Tell whether a server refused `email` for good."""
    return session.get(FailingAddress, normalise(email)) is not None


def not_failing(column: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """A condition keeping the rows whose address `column` is not failing."""
    return ~sa.exists().where(FailingAddress.email == column)


@gauges.gauge("maillage_mail_pending", "Single mails decided and not sent yet (nor given up).")
def pending_mail() -> float:
    return session.scalar(sa.select(sa.func.count()).where(OutgoingMail.status.is_(None))) or 0


@gauges.gauge("maillage_mail_oldest_pending_seconds",
              "Age of the oldest single mail not sent yet (0 when none waits).")
def oldest_pending_mail() -> float:
    return gauges.age(session.scalar(sa.select(sa.func.min(OutgoingMail.created_at))
                                     .where(OutgoingMail.status.is_(None))))


@gauges.gauge("maillage_mail_failed", "Single mails given up in the last week (refused for "
              "good, or for now for two days), kept in the outbox that long.")
def failed_mail() -> float:
    return session.scalar(sa.select(sa.func.count())
                          .where(OutgoingMail.status == Status.FAILED)) or 0


def waiting(limit: int) -> list[OutgoingMail]:
    """The single mails not sent yet, oldest first."""
    return list(session.scalars(sa.select(OutgoingMail).where(OutgoingMail.status.is_(None))
                                .order_by(OutgoingMail.id).limit(limit)))


def given_up(limit: int) -> list[OutgoingMail]:
    """The single mails given up (kept a week), latest first."""
    return list(session.scalars(sa.select(OutgoingMail)
                                .where(OutgoingMail.status == Status.FAILED)
                                .order_by(OutgoingMail.done_at.desc(), OutgoingMail.id.desc())
                                .limit(limit)))
