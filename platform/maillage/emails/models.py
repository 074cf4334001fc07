"""Email preferences of users, email-only subscriptions, and the digests and notices sent.

Preferences are kept per category of notification; each event's reaction says which category
its notifications fall in for each reason: "help routed to me" is help.requested or
help.escalated for the reason "referent". A user without a row has the defaults.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage import reactions
from maillage.accounts.models import new_secret
from maillage.database import ADDRESS, Base, UTCDateTime, enum_column, utcnow
from maillage.themes.models import Theme
from maillage.towns.models import Town


class Mode(enum.StrEnum):
    IMMEDIATE = "immediate"
    DIGEST = "digest"
    OFF = "off"


class Frequency(enum.StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"


@dataclass(frozen=True)
class Category:
    """A kind of mail a person chooses a mode for; each event's reaction says which category
    its notifications fall in, per reason (`Reaction.category`)."""

    name: str
    default: Mode


CATEGORIES = (
    Category("help_routed", Mode.IMMEDIATE),
    Category("answers", Mode.IMMEDIATE),
    Category("account", Mode.IMMEDIATE),
    Category("following", Mode.DIGEST),
)
CATEGORY_NAMES = [category.name for category in CATEGORIES]
_BY_NAME = {category.name: category for category in CATEGORIES}


@lru_cache(maxsize=256)
def category_of(kind: str, reason: str) -> Category:
    """Return the category a notification of `kind` for `reason` belongs to (asked for every
    notification of a fan-out, hence kept)."""
    category = reactions.of_kind(kind).category
    return _BY_NAME[category.get(reason) or category[None]]


@lru_cache(maxsize=64)
def immediate_by_default(kind: str) -> frozenset[str] | None:
    """Return the reasons for which a notification of `kind` may be mailed at once to a reader
    who kept the defaults (None: any reason may).

    Only readers with preferences of their own can want the others at once: a fan-out to the
    followers of a theme then looks at those few, not at every notification.
    """
    category = reactions.of_kind(kind).category
    if _BY_NAME[category[None]].default is Mode.IMMEDIATE:
        return None
    return frozenset(str(reason) for reason, name in category.items()
                     if reason is not None and _BY_NAME[name].default is Mode.IMMEDIATE)


class EmailPreference(Base):
    """A user's choices: a mode per category (only those changed are stored) and a frequency.

    `unsubscribed_at` is set by "unsubscribe from everything" and cleared when the user sets
    their preferences again.
    """

    __tablename__ = "email_preferences"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    frequency: Mapped[Frequency] = mapped_column(enum_column(Frequency),
                                                 default=Frequency.WEEKLY)
    modes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.Index("ix_email_preferences_frequency", "frequency"),)

    def mode(self, category: Category) -> Mode:
        if self.unsubscribed_at is not None:
            return Mode.OFF
        return Mode(self.modes.get(category.name, category.default))

    def mode_of(self, kind: str, reason: str) -> Mode:
        return self.mode(category_of(kind, reason))


def default_preference(user_id: int) -> EmailPreference:
    """The preferences of a user who never changed them (not added to the session)."""
    return EmailPreference(user_id=user_id, frequency=Frequency.WEEKLY, modes={},
                           unsubscribed_at=None)


subscription_themes = sa.Table(
    "subscription_themes",
    Base.metadata,
    sa.Column("subscription_id", sa.ForeignKey("subscriptions.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("theme_id", sa.ForeignKey("themes.id", ondelete="CASCADE"), primary_key=True),
)

subscription_towns = sa.Table(
    "subscription_towns",
    Base.metadata,
    sa.Column("subscription_id", sa.ForeignKey("subscriptions.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("town_insee", sa.ForeignKey("towns.insee", ondelete="CASCADE"), primary_key=True),
)


class Subscription(Base):
    """An address, with or without an account, that asked for the digest of themes and towns.

    Nothing but the confirmation is sent until `confirmed_at` is set (double opt-in); an
    address may have one confirmed subscription, which a newly confirmed one replaces, and
    one waiting for confirmation. Its links name `secret`, never its id.
    """

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True, info=ADDRESS)
    secret: Mapped[str] = mapped_column(sa.String(43), unique=True, default=new_secret)
    frequency: Mapped[Frequency] = mapped_column(enum_column(Frequency))
    locale: Mapped[str] = mapped_column(sa.String(5), default="fr")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    themes: Mapped[list[Theme]] = relationship(secondary=subscription_themes,
                                               order_by=Theme.slug, lazy="selectin")
    towns: Mapped[list[Town]] = relationship(secondary=subscription_towns,
                                             order_by=Town.insee, lazy="selectin")

    __table_args__ = (sa.Index("ix_subscriptions_frequency_id", "frequency", "id"),)


class Digest(Base):
    """The digest of one recipient for one period, recorded before it is sent, empty or not.

    Unique per recipient and period end, so a run retried or run twice claims nothing twice.
    Its window holds what committed after `window_from` and by `window_to`, two snapshots of
    the commits (`emails.windows`); the next digest starts at its `window_to`. A first digest
    (`window_from` NULL) starts at `window_start`, one period back or when its reader arrived.

    A digest to send is leased until `leased_until`: a run or a sweep sends again one whose
    lease ran out unsent (its run died), with the same window and Message-ID. `sent_at` is set
    once the SMTP server accepted it; `leased_until` is NULL once it needs nothing more: sent,
    empty, or refused for good.
    """

    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    subscription_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("subscriptions.id", ondelete="CASCADE"))
    frequency: Mapped[Frequency] = mapped_column(enum_column(Frequency))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_from: Mapped[str | None] = mapped_column(sa.Text)
    window_to: Mapped[str | None] = mapped_column(sa.Text)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    items: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.UniqueConstraint("user_id", "period_end"),
        sa.UniqueConstraint("subscription_id", "period_end"),
        sa.CheckConstraint("(user_id IS NULL) <> (subscription_id IS NULL)",
                           name="one_recipient"),
        sa.Index("ix_digests_leased_until", "leased_until"),
    )


class SentNotice(Base):
    """A notification mailed at once: never mailed twice, and left out of digests."""

    __tablename__ = "sent_notices"

    notification_id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        sa.ForeignKey("notifications.id", ondelete="CASCADE"), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
