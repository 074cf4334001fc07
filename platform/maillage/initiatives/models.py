"""Initiatives of towns, their comments, and the towns that replicated them."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.accounts.models import User
from maillage.attachments.models import Attachment
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
    # Its own replication record; written by `initiatives.operations.save_record`.
    record: Mapped[Record | None] = relationship(
        primaryjoin="and_(Record.initiative_id == Initiative.id, "
                    "Record.replication_id.is_(None))",
        viewonly=True, uselist=False, lazy="selectin")
    # Its files, for the page and the API; written by `attachments.operations`.
    attachments: Mapped[list[Attachment]] = relationship(
        order_by=Attachment.id, viewonly=True, lazy="selectin")

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
    # Its files, for the page and the API; written by `attachments.operations`.
    attachments: Mapped[list[Attachment]] = relationship(
        order_by=Attachment.id, viewonly=True, lazy="selectin")


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
    record: Mapped[Record | None] = relationship(
        primaryjoin="Record.replication_id == Replication.id", viewonly=True, uselist=False,
        lazy="selectin")

    __table_args__ = (sa.UniqueConstraint("original_id", "town_insee"),)


class Record(Base):
    """What a town needs to copy an initiative: the solution, its funding, cost, duration,
    results and whom to call. One on an initiative (`replication_id` None) and one on each
    "we did it too"; `initiative_id` is always the initiative it is about, whose themes the
    cost figures read, and `town_insee` the town that paid."""

    __tablename__ = "replication_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        sa.ForeignKey("initiatives.id", ondelete="CASCADE"))
    replication_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("replications.id", ondelete="CASCADE"), unique=True)
    town_insee: Mapped[str] = mapped_column(sa.ForeignKey("towns.insee"))
    solution: Mapped[str | None] = mapped_column(sa.String(500))
    supplier_siren: Mapped[str | None] = mapped_column(sa.String(9))
    total_cost_eur: Mapped[int | None] = mapped_column(sa.Integer)
    duration_months: Mapped[int | None] = mapped_column(sa.Integer)
    results: Mapped[str | None] = mapped_column(sa.Text)
    indicators: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    town: Mapped[Town] = relationship(lazy="joined", innerjoin=True)
    contact: Mapped[User | None] = relationship(lazy="joined")
    funding: Mapped[list[Funding]] = relationship(
        lazy="selectin", order_by="Funding.scheme", cascade="all, delete-orphan")

    __table_args__ = (
        # The initiative's own record is one, as each replication's is (the column's unique).
        sa.Index("ux_replication_records_own", "initiative_id", unique=True,
                 postgresql_where=sa.text("replication_id IS NULL"),
                 sqlite_where=sa.text("replication_id IS NULL")),
        sa.CheckConstraint("total_cost_eur >= 0", name="record_cost_not_negative"),
        sa.CheckConstraint("duration_months >= 0", name="record_duration_not_negative"),
    )

    @property
    def cost_per_inhabitant(self) -> float | None:
        """Derived from the town's official population, never typed in."""
        population = self.town.population
        if self.total_cost_eur is None or not population:
            return None
        return round(self.total_cost_eur / population, 2)


class Funding(Base):
    """One scheme's part of a record's funding (schemes: `initiatives.funding`)."""

    __tablename__ = "replication_funding"

    record_id: Mapped[int] = mapped_column(
        sa.ForeignKey("replication_records.id", ondelete="CASCADE"), primary_key=True)
    scheme: Mapped[str] = mapped_column(sa.String(40), primary_key=True, index=True)
    amount_eur: Mapped[int] = mapped_column(sa.Integer)

    __table_args__ = (sa.CheckConstraint("amount_eur >= 0", name="funding_not_negative"),)
