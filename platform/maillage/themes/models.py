"""Themes, named in French and English."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from maillage.database import Base


class Theme(Base):
    __tablename__ = "themes"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    name_fr: Mapped[str] = mapped_column(sa.String(120))
    name_en: Mapped[str] = mapped_column(sa.String(120))

    def name(self, locale: str) -> str:
        """Return the theme's name in `locale`, French unless English is asked for."""
        return self.name_en if locale.startswith("en") else self.name_fr
