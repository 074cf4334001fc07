"""Help requests, their answers, and standing offers of help."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.accounts.models import User
from maillage.attachments.models import Attachment
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
    """A town's question; `circle` is how far it was routed, `routed_at` when it reached that
    circle or was offered again (the escalation ladder counts its delay from there),
    `escalated_at` when it was last widened. Hidden, it is seen by moderators only.
    `confidential`: the asker marked it a security incident, seen by those `policy.can_see`
    names and listed nowhere else (`help.queries.shown_to`)."""

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
    routed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # by a moderator
    confidential: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    town: Mapped[Town] = relationship(lazy="joined", innerjoin=True)
    author: Mapped[User | None] = relationship(lazy="joined")
    themes: Mapped[list[Theme]] = relationship(secondary=help_request_themes,
                                               order_by=Theme.slug, lazy="selectin")
    claim: Mapped[HelpClaim | None] = relationship(lazy="joined", cascade="all, delete-orphan")
    # Its files, for the page and the API; written by `attachments.operations`.
    attachments: Mapped[list[Attachment]] = relationship(
        order_by=Attachment.id, viewonly=True, lazy="selectin")

    __table_args__ = (
        sa.Index("ix_help_requests_status_created_at", "status", "created_at"),
    )


class HelpClaim(Base):
    """A referent said "I'm on it": one claim a request at most. `user_id` turns NULL when
    the claimer's account is deleted, a claim nobody holds, which is then released.

    A table of its own rather than columns of `help_requests`: SQLite adds a foreign key to an
    existing table only inline, and the models would no longer match the history."""

    __tablename__ = "help_claims"

    help_request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("help_requests.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"),
                                                index=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship(lazy="joined")


class Step(enum.StrEnum):
    """What happened to a request, as its history shows it."""

    ROUTED = "routed"  # asked: reached its first circle
    ESCALATED = "escalated"  # widened to the next circle, after its delay
    SKIPPED = "skipped"  # a circle passed over: no referent of the themes in it
    REROUTED = "rerouted"  # offered again to the circles it reached (released, not solved)
    CLAIMED = "claimed"
    RELEASED = "released"  # by the claimer
    EXPIRED = "expired"  # the claimer did not answer in time
    HANDED_OVER = "handed-over"  # the claimer left, or no longer has the theme
    ANSWERED = "answered"
    ACCEPTED = "accepted"
    NOT_SOLVED = "not-solved"  # the asker said the answers did not solve it
    CLOSED = "closed"


class HelpStep(Base):
    """One line of a request's history: what, when, who (the claimer, the answerer) and, for
    routing, which circle and how many referents it held then."""

    __tablename__ = "help_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    help_request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("help_requests.id", ondelete="CASCADE"))
    kind: Mapped[Step] = mapped_column(enum_column(Step))
    circle: Mapped[Circle | None] = mapped_column(enum_column(Circle))
    referents: Mapped[int | None] = mapped_column()
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"),
                                                index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship(lazy="joined")

    __table_args__ = (sa.Index("ix_help_steps_help_request_id_id", "help_request_id", "id"),)


class Reminder(enum.StrEnum):
    """The reminders of help, each sent once to each person about each request."""

    SOLVED = "solved"  # to the asker: did the answers solve it?
    CLAIM = "claim"  # to the claimer: the request they took still waits for their answer
    DEADLINE = "deadline"  # to the asker: the deadline nears and nothing came


class HelpReminder(Base):
    """A reminder decided: sent (`sent_at`) or stopped before it was (`sent_at` NULL), one
    row per request, person and kind, so that none goes twice. Stopping a request's reminders
    writes the rows of the kinds not sent yet."""

    __tablename__ = "help_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    help_request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("help_requests.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    kind: Mapped[Reminder] = mapped_column(enum_column(Reminder))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request: Mapped[HelpRequest] = relationship(lazy="joined", innerjoin=True)
    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (sa.UniqueConstraint("help_request_id", "user_id", "kind"),)


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
    # Its files, for the page and the API; written by `attachments.operations`.
    attachments: Mapped[list[Attachment]] = relationship(
        order_by=Attachment.id, viewonly=True, lazy="selectin")


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
