"""Which account a provider's person is: one row per (issuer, subject) ever signed in."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.accounts.models import User
from maillage.database import Base, UTCDateTime, utcnow


class OidcIdentity(Base):
    """A provider's subject linked to an account; the subject, not the address, is the key.

    Addresses change and are reused; `sub` is stable for a provider (OpenID Connect Core 5.7).
    """

    __tablename__ = "oidc_identities"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    issuer: Mapped[str] = mapped_column(sa.String(300))
    subject: Mapped[str] = mapped_column(sa.String(255))
    email: Mapped[str] = mapped_column(sa.String(254))
    organisation: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (sa.UniqueConstraint("issuer", "subject"),)
