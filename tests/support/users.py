"""Users in states the factories of tests/conftest.py do not make."""

from __future__ import annotations

import sqlalchemy as sa

from maillage.accounts.models import User
from maillage.database import session, transaction, utcnow
from maillage.follows.models import Follow
from maillage.themes.models import Theme
from maillage.themes.queries import themes_by_slug


def declared_before_the_rule(user: User, *slugs: str) -> None:
    """Give `user` expertise as anyone could declare it before migration 0013, which kept it
    for those who are no referents now (no verified town, no grant): it routes them nothing."""
    with transaction():
        session.get(User, user.id).expertise = themes_by_slug(slugs)[0]


def bulk_followers(count: int, theme: str) -> None:
    """Create `count` users following `theme`, in two statements."""
    now = utcnow()
    with transaction():
        session.execute(sa.insert(User), [
            {"email": f"bulk{n}@follow.test", "display_name": f"Bulk {n}", "is_admin": False,
             "is_moderator": False, "locale": "fr", "created_at": now} for n in range(count)])
        theme_id = session.scalar(sa.select(Theme.id).where(Theme.slug == theme))
        session.execute(sa.insert(Follow).from_select(
            ["user_id", "target", "theme_id", "created_at"],
            sa.select(User.id, sa.literal("theme"), sa.literal(theme_id),
                      sa.literal(now, Follow.created_at.type))
            .where(User.email.like("%@follow.test"))))
