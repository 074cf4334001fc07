"""Help requests, their answers, and standing offers of help."""

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
    OPEN = "open"
    ANSWERED = "answered"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Circle(enum.StrEnum):
    """How far a request reaches, from the asking town: nearest first."""

    DEPARTMENT = "department"
    REGION = "region"
    NETWORK = "network"

    @property
    def rank(self) -> int:
        return list(Circle).index(self)


help_request_themes = sa.Table(
    "help_request_themes",
    Base.metadata,
    sa.Column("help_request_id", sa.ForeignKey("help_requests.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("theme_id", sa.ForeignKey("themes.id", ondelete="CASCADE"), primary_key=True,
              index=True),
)

help_offer_themes = sa.Table(
    "help_offer_themes",
    Base.metadata,
    sa.Column("help_offer_id", sa.ForeignKey("help_offers.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("theme_id", sa.ForeignKey("themes.id", ondelete="CASCADE"), primary_key=True,
              index=True),
)


class HelpRequest(Base):
    """A town's question; `circle` is how far it was routed, `escalated_at` when it was
    widened (once at most). Hidden, it is seen by moderators only. `confidential`: the asker
    marked it a security incident, seen by those `policy.can_see` names and listed nowhere
    else (`help.queries.shown_to`)."""

    __tablename__ = "help_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    town_insee: Mapped[str] = mapped_column(sa.ForeignKey("towns.insee"), index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"),
                                                  index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[Status] = mapped_column(enum_column(Status))
    deadline: Mapped[date | None] = mapped_column(sa.Date)
    circle: Mapped[Circle] = mapped_column(enum_column(Circle))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # by a moderator
    confidential: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    town: Mapped[Town] = relationship(lazy="joined", innerjoin=True)
    author: Mapped[User | None] = relationship(lazy="joined")
    themes: Mapped[list[Theme]] = relationship(secondary=help_request_themes,
                                               order_by=Theme.slug, lazy="selectin")

    __table_args__ = (
        sa.Index("ix_help_requests_status_created_at", "status", "created_at"),
    )


class HelpAnswer(Base):
    """An answer; `by_referent` when its author declared expertise in one of the themes,
    `accepted_at` when the asker said it solved the question (one answer a request). Hidden,
    it is shown to nobody."""

    __tablename__ = "help_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    help_request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("help_requests.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)
    by_referent: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # by a moderator

    author: Mapped[User | None] = relationship(lazy="joined")


class HelpOffer(Base):
    """A standing offer on some themes, by a town (`town_insee`) or by a referent alone.
    Hidden, it is shown to nobody."""

    __tablename__ = "help_offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    town_insee: Mapped[str | None] = mapped_column(sa.ForeignKey("towns.insee"), index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # by a moderator

    town: Mapped[Town | None] = relationship(lazy="joined")
    author: Mapped[User | None] = relationship(lazy="joined")
    themes: Mapped[list[Theme]] = relationship(secondary=help_offer_themes,
                                               order_by=Theme.slug, lazy="selectin")
