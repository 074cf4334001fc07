"""Addresses that refused mail for good: nothing more is sent to them."""

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
