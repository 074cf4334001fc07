"""Reading themes."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from maillage.database import session
from maillage.themes.models import Theme


def list_themes() -> list[Theme]:
    """Return every theme, in French alphabetical order of slug."""
    return list(session.scalars(sa.select(Theme).order_by(Theme.slug)))


def get_theme(slug: str) -> Theme | None:
    """Return the theme named `slug`, or None."""
    return session.scalar(sa.select(Theme).where(Theme.slug == slug))


def themes_by_slug(slugs: Iterable[str]) -> tuple[list[Theme], list[str]]:
    """Return the themes named in `slugs` and the slugs that name none."""
    wanted = list(dict.fromkeys(slugs))
    found = {t.slug: t for t in session.scalars(sa.select(Theme).where(Theme.slug.in_(wanted)))}
    return [found[s] for s in wanted if s in found], [s for s in wanted if s not in found]
