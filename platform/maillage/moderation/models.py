"""Reports on content, and the audit log of what moderators did."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.accounts.models import User
from maillage.database import Base, UTCDateTime, utcnow


class Report(Base):
    """Someone signed in says a piece of content breaks the rules; open until handled.

    `target_kind` names an entry of `moderation.queries.TARGETS`, so a new kind of content
    needs no migration.
    """

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_kind: Mapped[str] = mapped_column(sa.String(32))
    target_id: Mapped[int]
    reporter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(sa.String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))

    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id], lazy="joined")

    __table_args__ = (
        sa.Index("ix_reports_target", "target_kind", "target_id"),
        sa.Index("ix_reports_open", "resolved_at", "id"),
    )


class AuditEntry(Base):
    """Who did what to which content, and when; kept when the moderator's account goes."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"),
                                                 index=True)
    action: Mapped[str] = mapped_column(sa.String(32))
    target_kind: Mapped[str] = mapped_column(sa.String(32))
    target_id: Mapped[int]
    note: Mapped[str] = mapped_column(sa.String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship(lazy="joined")

    __table_args__ = (sa.Index("ix_audit_entries_target", "target_kind", "target_id"),)
