"""Regions, departments and towns, as the official geography (COG) defines them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.database import Base


class Region(Base):
    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(sa.String(3), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))


class Department(Base):
    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(sa.String(3), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"))

    region: Mapped[Region] = relationship(lazy="joined")


class Town(Base):
    """A commune; `search_name` is its name folded (no case, accents or hyphens) for search."""

    __tablename__ = "towns"

    insee: Mapped[str] = mapped_column(sa.String(5), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    search_name: Mapped[str] = mapped_column(sa.String(120))
    zone: Mapped[str] = mapped_column(sa.String(5))
    department_code: Mapped[str] = mapped_column(sa.ForeignKey("departments.code"), index=True)
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    population: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    siren: Mapped[str | None] = mapped_column(sa.String(9), unique=True)

    department: Mapped[Department] = relationship(lazy="joined", innerjoin=True)
    region: Mapped[Region] = relationship(lazy="joined", innerjoin=True)
    # Loaded when read, as only the towns API shows them: a town comes with every membership
    # of the user of every authenticated request, and with many a page's rows.
    postal_codes: Mapped[list[PostalCode]] = relationship(
        order_by="PostalCode.code", cascade="all, delete-orphan"
    )
    # Networks build on towns (networks.models imports this module), so their classes are
    # named here by string, and the lists typed loosely: NetworkMembership, LabelAward.
    networks: Mapped[list[Any]] = relationship(
        "NetworkMembership", viewonly=True, order_by="NetworkMembership.network_id"
    )
    label_awards: Mapped[list[Any]] = relationship(
        "LabelAward", viewonly=True, order_by="LabelAward.year.desc()"
    )

    __table_args__ = (sa.Index("ix_towns_search_name_insee", "search_name", "insee"),)


class PostalCode(Base):
    __tablename__ = "postal_codes"

    town_insee: Mapped[str] = mapped_column(
        sa.ForeignKey("towns.insee", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(sa.String(5), primary_key=True, index=True)
