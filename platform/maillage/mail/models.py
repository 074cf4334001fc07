"""Addresses that refused mail for good, the confirmation mails each address was sent, and
the outbox of single mails."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from maillage.database import ADDRESS, Base, UTCDateTime, enum_column, utcnow


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


class Kind(enum.StrEnum):
    """What a single mail is, by name; `workers/mail.py` builds each from what it is about."""

    NOTICE = "notice"  # about a notification
    SUBSCRIPTION = "subscription"  # the double opt-in link, about a subscription
    ACCOUNT = "account"  # the sign-up confirmation, about a user
    PASSWORD_RESET = "password-reset"  # about a user
    SECURITY = "security"  # a change of the account, about a user
    REPLY_REFUSED = "reply-refused"  # a reply by mail to a closed request, about its row
    HELP_REMINDER = "help-reminder"  # about a help reminder (`help_reminders`)


class Status(enum.StrEnum):
    SENT = "sent"  # a server accepted it
    FAILED = "failed"  # refused for good, or retried for too long
    DROPPED = "dropped"  # no longer to send: sent otherwise, unwanted, its subject gone


class OutgoingMail(Base):
    """A single mail decided in the transaction that decided it: the outbox of mail.

    Nothing else marks it sent than a server's acceptance. `attempts` counts the tries, and
    a job names the try it is for, so that of two jobs for one try only one sends. Until
    `lease_until` someone answers for the row: the job queued with it, the sender trying it,
    or no one before its next try; past it, the sweep queues it again.
    """

    __tablename__ = "outgoing_mails"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True)
    kind: Mapped[Kind] = mapped_column(enum_column(Kind))
    about: Mapped[int] = mapped_column(sa.BigInteger)
    args: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[Status | None] = mapped_column(enum_column(Status))  # None: to send
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(sa.String(500))

    __table_args__ = (sa.Index("ix_outgoing_mails_pending", "status", "lease_until"),
                      sa.Index("ix_outgoing_mails_done_at", "done_at"))
