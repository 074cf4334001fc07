"""Notifications: one per person and event, saying why that person got it."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from maillage.database import PERSON, Base, UTCDateTime, utcnow


class Reason(enum.StrEnum):
    """Why a person is notified, the closest first; the texts of `notifications.texts` say it."""

    MEMBER = "member"  # it is about their own account
    REFERENT = "referent"  # a request of their themes reached their circle
    ASKER = "asker"  # an answer to their question
    CLAIMER = "claimer"  # the help request they took on
    AUTHOR = "author"  # news of what they wrote
    INITIATIVE = "initiative"  # they follow the initiative
    HELP_REQUEST = "help-request"  # they follow the request
    TOWN = "town"  # they follow the town
    THEME = "theme"  # they follow the theme


class Notification(Base):
    """`reason` and `reason_ref` say why ("theme", "sobriete-numerique"); `data` what happened.

    Ids only grow, so a client that saw id N asks for what came after N. No foreign keys: a
    fan-out inserts up to a million rows at once, and a key is checked by a trigger per row,
    two thirds of the time of such an insert (migration 0025). The rows come from follows
    and events of the same transaction; `user_id` is marked `PERSON`, so an account's
    notifications are exported and deleted with it (privacy/).
    """

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True)
    user_id: Mapped[int] = mapped_column(info=PERSON)
    event_id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"))
    kind: Mapped[str] = mapped_column(sa.String(64))
    reason: Mapped[str] = mapped_column(sa.String(32))
    reason_ref: Mapped[str] = mapped_column(sa.String(80), default="")
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # On PostgreSQL, the transaction that wrote the row (a server default): digests cut their
    # windows by it (emails.windows). NULL on SQLite, where the id's order is commit order.
    txid: Mapped[int | None] = mapped_column(sa.BigInteger, server_default=sa.FetchedValue())

    __table_args__ = (
        sa.UniqueConstraint("event_id", "user_id"),
        sa.Index("ix_notifications_user_id_id", "user_id", "id"),
        # The unread count reads only this: a member's unread rows, never the read ones.
        sa.Index("ix_notifications_unread", "user_id", postgresql_where=sa.text("read_at IS NULL"),
                 sqlite_where=sa.text("read_at IS NULL")),
    )
