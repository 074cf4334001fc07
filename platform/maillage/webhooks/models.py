"""A network's webhooks, and the outbox of their deliveries."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.database import Base, UTCDateTime, utcnow
from maillage.networks.models import Network

# The events a webhook may ask for: those of a town's public life, whose payload names the
# town (`town_insee`), so that a network hears of its own towns alone.
KINDS = ("initiative.published", "initiative.updated", "initiative.status_changed",
         "initiative.commented", "initiative.replicated", "help.requested", "help.answered",
         "help.accepted", "help.closed", "help.escalated")


class Webhook(Base):
    """A URL a network's admin registered, the kinds of events it wants, its secret.

    The secret is kept as it is (the HMAC needs it) and shown once, at registration.
    `failures` counts the failed tries in a row; at WEBHOOK_MAX_FAILURES the hook is disabled.
    """

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(
        sa.ForeignKey("networks.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(sa.String(2000))
    kinds: Mapped[list[str]] = mapped_column(sa.JSON)
    secret: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    failures: Mapped[int] = mapped_column(sa.Integer, default=0)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(sa.String(500))

    network: Mapped[Network] = relationship(lazy="joined", innerjoin=True)


class Delivery(Base):
    """One event for one webhook: its body, fixed when decided, and how its tries went.

    Like a single mail (`mail.models.OutgoingMail`): decided in the event's transaction, tried
    by a job that names its try, swept again once `lease_until` has passed. Done when
    `delivered_at` (a 2xx) or `failed_at` (given up, or its hook disabled) is set.
    """

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True)
    webhook_id: Mapped[int] = mapped_column(sa.ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(sa.BigInteger)
    kind: Mapped[str] = mapped_column(sa.String(64))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(sa.Integer)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    webhook: Mapped[Webhook] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (
        sa.UniqueConstraint("webhook_id", "event_id"),
        sa.Index("ix_webhook_deliveries_pending", "delivered_at", "failed_at", "lease_until"),
    )
