"""Networks, the towns that belong to them, and the "@" label awards of towns."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.database import Base
from maillage.towns.models import Town


class Network(Base):
    __tablename__ = "networks"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")


class NetworkMembership(Base):
    """A town belongs to a network, since a year when it is known."""

    __tablename__ = "network_memberships"

    network_id: Mapped[int] = mapped_column(
        sa.ForeignKey("networks.id", ondelete="CASCADE"), primary_key=True
    )
    town_insee: Mapped[str] = mapped_column(
        sa.ForeignKey("towns.insee", ondelete="CASCADE"), primary_key=True, index=True
    )
    since_year: Mapped[int | None] = mapped_column(sa.SmallInteger)

    network: Mapped[Network] = relationship(lazy="joined", innerjoin=True)
    town: Mapped[Town] = relationship()


class LabelAward(Base):
    """A town was awarded the label at a level of 1 to 5 "@" for a year."""

    __tablename__ = "label_awards"

    id: Mapped[int] = mapped_column(primary_key=True)
    town_insee: Mapped[str] = mapped_column(sa.ForeignKey("towns.insee", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(sa.SmallInteger)
    level: Mapped[int] = mapped_column(sa.SmallInteger)

    __table_args__ = (
        sa.UniqueConstraint("town_insee", "year"),
        sa.CheckConstraint("level BETWEEN 1 AND 5", name="level_range"),
    )


class BoardSeat(Base):
    """A seat on a network's board, held by a person of a town (their name when it is given).

    The town is what figures use: it tells which population band a board draws from.
    """

    __tablename__ = "board_seats"

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(
        sa.ForeignKey("networks.id", ondelete="CASCADE"), index=True
    )
    town_insee: Mapped[str] = mapped_column(sa.ForeignKey("towns.insee", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(sa.String(80))
    person_name: Mapped[str | None] = mapped_column(sa.String(200))

    network: Mapped[Network] = relationship(lazy="joined", innerjoin=True)
    town: Mapped[Town] = relationship(lazy="joined", innerjoin=True)
