"""Addresses that refused mail for good, and the confirmation mails each address was sent."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from maillage.database import ADDRESS, Base, UTCDateTime, utcnow


class FailingAddress(Base):
    """An address a server answered with a permanent (5xx) refusal, and what it said."""

    __tablename__ = "failing_addresses"

    email: Mapped[str] = mapped_column(sa.String(254), primary_key=True, info=ADDRESS)
    code: Mapped[int] = mapped_column(sa.Integer)
    message: Mapped[str] = mapped_column(sa.String(500))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConfirmationMail(Base):
    """A confirmation mail (of a sign-up or a subscription) decided for an address.

    Counted per address, whoever asks: a form that mails any address typed in must not let
    a stranger flood a town hall's mailbox.
    """

    __tablename__ = "confirmation_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), info=ADDRESS)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.Index("ix_confirmation_mails_email_sent_at", "email", "sent_at"),)
