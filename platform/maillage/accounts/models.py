"""Users, the towns they belong to (verified or not), their expertise, the admins' grants
that make referents, and personal API tokens."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.database import Base, UTCDateTime, enum_column, utcnow
from maillage.themes.models import Theme
from maillage.towns.models import Town


class Role(enum.StrEnum):
    ELECTED = "elected"
    AGENT = "agent"
    REFERENT = "referent"


class VerificationSource(enum.StrEnum):
    ADMIN = "admin"
    MODERATOR = "moderator"
    PEER = "peer"
    OIDC = "oidc"


class Scope(enum.StrEnum):
    READ = "read"
    WRITE = "write"


def new_secret() -> str:
    """A random secret of 256 bits, URL-safe and without dots (tokens are joined by dots)."""
    return secrets.token_urlsafe(32)


user_expertise = sa.Table(
    "user_expertise",
    Base.metadata,
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("theme_id", sa.ForeignKey("themes.id", ondelete="CASCADE"), primary_key=True,
              index=True),
)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str | None] = mapped_column(sa.String(200))
    is_admin: Mapped[bool] = mapped_column(default=False)
    is_moderator: Mapped[bool] = mapped_column(default=False)
    locale: Mapped[str] = mapped_column(sa.String(5), default="fr")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the owner of the address followed the link mailed at sign-up (or signed in
    # through a provider that vouches for it): until then the account reads and nothing else.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # In every session, socket and reset link; a new one ends them all (see get_id).
    session_secret: Mapped[str] = mapped_column(sa.String(43), default=new_secret)

    # Both loaded when read, not with the user: every authenticated request loads its user,
    # and most (an API read, the live badge's count) need neither.
    memberships: Mapped[list[TownMembership]] = relationship(
        back_populates="user", cascade="all, delete-orphan",
        foreign_keys="TownMembership.user_id",
    )
    expertise: Mapped[list[Theme]] = relationship(secondary=user_expertise, order_by=Theme.slug)
    referent_grant: Mapped[ReferentGrant | None] = relationship(
        cascade="all, delete-orphan", foreign_keys="ReferentGrant.user_id")

    # Flask-Login's protocol, kept here rather than in a mixin so the model stays plain.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        """The id a signed-in session keeps: the user's, and their session secret.

        Signing out everywhere, a new password or a first provider sign-in draws a new
        secret, so the sessions opened before, on a stolen laptop or a shared computer, no
        longer load anyone.
        """
        return f"{self.id}.{self.session_secret}"

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    def verified_towns(self) -> set[str]:
        """Return the INSEE codes of the towns this user is a verified member of."""
        return {m.town_insee for m in self.memberships if m.verified_at is not None}


class SignInFailure(Base):
    """Wrong passwords in a row for one account from one source address, and the lockout
    they led to: counted per source, so that a stranger's guesses never lock the owner out."""

    __tablename__ = "sign_in_failures"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TownMembership(Base):
    """A person says they serve a town; verified by a peer, a moderator, an admin or OIDC."""

    __tablename__ = "town_memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    town_insee: Mapped[str] = mapped_column(sa.ForeignKey("towns.insee"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    verification_source: Mapped[VerificationSource | None] = mapped_column(
        enum_column(VerificationSource)
    )

    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id])
    town: Mapped[Town] = relationship(lazy="joined", innerjoin=True)
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])

    __table_args__ = (sa.UniqueConstraint("user_id", "town_insee"),)

    @property
    def verified(self) -> bool:
        return self.verified_at is not None


class ReferentGrant(Base):
    """An admin made this person a referent without a verified town (an expert of a partner
    body, say): `policy.can_be_referent`. `granted_by_id` is who decided, NULL when it was the
    operator of the command line or once that account is gone.

    A table of its own rather than columns of `users`: SQLite adds a foreign key to an existing
    table only inline, where its name and ON DELETE are not read back, so the models would not
    match the migrations without copying `users`; and a grant, like a verification, is
    exported to both people it names, where another account's row must not be.
    """

    __tablename__ = "referent_grants"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    granted_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    """A personal API token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    scope: Mapped[Scope] = mapped_column(enum_column(Scope))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)
