"""The replies by mail received: one row a message and member, so that an MTA delivering a
message again (a lost acknowledgement, a retry) posts it once and mails its refusal once."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from maillage.database import Base, UTCDateTime, enum_column, utcnow


class Outcome(enum.StrEnum):
    ANSWERED = "answered"  # it became an answer to a help request
    COMMENTED = "commented"  # it became a comment on an initiative
    CLOSED = "closed"  # the request was closed: nothing posted, the sender told by mail
    REFUSED = "refused"  # not allowed or not kept (see the log)


class InboundMail(Base):
    """A reply received from `user_id` (the token's member, and its From), by Message-ID."""

    __tablename__ = "inbound_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(sa.String(255))
    item: Mapped[str] = mapped_column(sa.String(1))  # replies.tokens: HELP_REQUEST, INITIATIVE
    item_id: Mapped[int] = mapped_column(sa.Integer)
    outcome: Mapped[Outcome] = mapped_column(enum_column(Outcome))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("user_id", "message_id"),)
