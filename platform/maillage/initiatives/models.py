"""Initiatives of towns, their comments, and the towns that replicated them."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.accounts.models import User
from maillage.database import Base, UTCDateTime, enum_column, utcnow
from maillage.themes.models import Theme
from maillage.towns.models import Town


class Status(enum.StrEnum):
    IDEA = "idea"
    IN_PROGRESS = "in_progress"
    DONE = "done"


initiative_themes = sa.Table(
    "initiative_themes",
    Base.metadata,
    sa.Column("initiative_id", sa.ForeignKey("initiatives.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("theme_id", sa.ForeignKey("themes.id", ondelete="CASCADE"), primary_key=True),
    # A theme's initiatives, newest first, from the index alone (migration 0010).
    sa.Index("ix_initiative_themes_theme_id_initiative_id", "theme_id", "initiative_id"),
)


class Initiative(Base):
    """A town's initiative; `body_html` is its Markdown body rendered and sanitised once."""

    __tablename__ = "initiatives"

    id: Mapped[int] = mapped_column(primary_key=True)
    town_insee: Mapped[str] = mapped_column(sa.ForeignKey("towns.insee"), index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.String(500))
    body: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[Status] = mapped_column(enum_column(Status))
    started_on: Mapped[date | None] = mapped_column(sa.Date)
    budget_eur: Mapped[int | None] = mapped_column(sa.Integer)
    partners: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    links: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    town: Mapped[Town] = relationship(lazy="joined", innerjoin=True)
    author: Mapped[User | None] = relationship(lazy="joined")
    themes: Mapped[list[Theme]] = relationship(secondary=initiative_themes,
                                               order_by=Theme.slug, lazy="selectin")

    __table_args__ = (
        sa.Index("ix_initiatives_created_at_id", "created_at", "id"),
        # Lists and searches read what their filters need in these, not in the wide rows,
        # by id or by town (migration 0010).
        sa.Index("ix_initiatives_visible", "id", postgresql_include=["town_insee", "status"],
                 postgresql_where=sa.text("hidden_at IS NULL"),
                 sqlite_where=sa.text("hidden_at IS NULL")),
        sa.Index("ix_initiatives_visible_by_town", "town_insee", "id",
                 postgresql_include=["status"], postgresql_where=sa.text("hidden_at IS NULL"),
                 sqlite_where=sa.text("hidden_at IS NULL")),
        sa.CheckConstraint("budget_eur >= 0", name="budget_not_negative"),
    )

    @property
    def visible(self) -> bool:
        return self.hidden_at is None


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        sa.ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    author: Mapped[User | None] = relationship(lazy="joined")


class Replication(Base):
    """A town says "we did it too", linking its own initiative when it has one."""

    __tablename__ = "replications"

    id: Mapped[int] = mapped_column(primary_key=True)
    original_id: Mapped[int] = mapped_column(
        sa.ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    town_insee: Mapped[str] = mapped_column(sa.ForeignKey("towns.insee"))
    initiative_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("initiatives.id", ondelete="SET NULL")
    )
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(sa.String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    town: Mapped[Town] = relationship(lazy="joined", innerjoin=True)
    initiative: Mapped[Initiative | None] = relationship(foreign_keys=[initiative_id])

    __table_args__ = (sa.UniqueConstraint("original_id", "town_insee"),)
