"""Users in states the factories of tests/conftest.py do not make."""

from __future__ import annotations

from maillage.accounts.models import User
from maillage.database import session, transaction
from maillage.themes.queries import themes_by_slug


def declared_before_the_rule(user: User, *slugs: str) -> None:
    """Give `user` expertise as anyone could declare it before migration 0013, which kept it
    for those who are no referents now (no verified town, no grant): it routes them nothing."""
    with transaction():
        session.get(User, user.id).expertise = themes_by_slug(slugs)[0]
