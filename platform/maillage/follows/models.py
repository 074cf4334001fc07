"""Follows: one row per person and thing followed, with a foreign key to that thing."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.database import Base, UTCDateTime, enum_column, utcnow
from maillage.themes.models import Theme


class Target(enum.StrEnum):
    THEME = "theme"
    TOWN = "town"
    INITIATIVE = "initiative"
    HELP_REQUEST = "help-request"


class Follow(Base):
    """Exactly one of the target columns is set; `target` says which, for readers and checks."""

    __tablename__ = "follows"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    target: Mapped[Target] = mapped_column(enum_column(Target))
    theme_id: Mapped[int | None] = mapped_column(sa.ForeignKey("themes.id", ondelete="CASCADE"))
    town_insee: Mapped[str | None] = mapped_column(
        sa.ForeignKey("towns.insee", ondelete="CASCADE")
    )
    initiative_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("initiatives.id", ondelete="CASCADE")
    )
    help_request_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("help_requests.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    theme: Mapped[Theme | None] = relationship(lazy="joined")

    __table_args__ = (
        sa.UniqueConstraint("user_id", "theme_id"),
        sa.UniqueConstraint("user_id", "town_insee"),
        sa.UniqueConstraint("user_id", "initiative_id"),
        sa.UniqueConstraint("user_id", "help_request_id"),
        sa.Index("ix_follows_theme_id_user_id", "theme_id", "user_id"),
        sa.Index("ix_follows_town_insee_user_id", "town_insee", "user_id"),
        sa.Index("ix_follows_initiative_id_user_id", "initiative_id", "user_id"),
        sa.Index("ix_follows_help_request_id_user_id", "help_request_id", "user_id"),
        sa.CheckConstraint(
            "(CASE WHEN theme_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN town_insee IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN initiative_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN help_request_id IS NULL THEN 0 ELSE 1 END) = 1", name="one_target"),
    )
