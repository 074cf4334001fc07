"""The people of the live benchmark: followers of themes with their tokens, and an author."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from maillage.accounts import operations as accounts
from maillage.accounts.models import Role, Scope, User, VerificationSource
from maillage.app import create_app
from maillage.database import session, transaction, utcnow
from maillage.follows.models import Follow
from maillage.themes.models import Theme
from maillage.themes.operations import load_themes
from maillage.towns.operations import import_communes

LANNION = "22113"


@dataclass(frozen=True)
class Follower:
    user_id: int
    theme: str
    token: str
    url: str = ""


def populate(database_url: str, redis_url: str, themes: int,
             per_theme: int) -> tuple[str, list[Follower]]:
    """Fill the database; return the author's write token and the followers, with tokens."""
    app = create_app({"DATABASE_URL": database_url, "REDIS_URL": redis_url,
                      "SECRET_KEY": "bench", "SWEEP_INTERVAL": None})
    with app.app_context(), transaction():
        import_communes()
        load_themes()
        slugs = list(session.scalars(sa.select(Theme.slug).order_by(Theme.slug)
                                     .limit(themes)))
        add_followers(slugs, per_theme)
        author = accounts.create_user("author@bench.test", "Author", confirmed=True)
        membership = accounts.join_town(author, LANNION, Role.AGENT)
        accounts.verify_membership(membership, None, VerificationSource.ADMIN)
        _token, author_secret = accounts.create_token(author, Scope.WRITE, "bench")
        followers = []
        rows = session.execute(sa.select(User, Theme.slug)
                               .join(Follow, Follow.user_id == User.id)
                               .join(Theme, Theme.id == Follow.theme_id)
                               .order_by(User.id)).all()
        for user, slug in rows:
            _token, secret = accounts.create_token(user, Scope.READ, "bench")
            followers.append(Follower(user.id, slug, secret))
    app.extensions["maillage.engine"].dispose()
    return author_secret, followers


def add_followers(slugs: Sequence[str], per_theme: int) -> None:
    """Insert `per_theme` new users following each theme, in bulk."""
    now = utcnow()
    rows = [{"email": f"f{n}@bench.test", "display_name": f"F {n}", "is_admin": False,
             "is_moderator": False, "locale": "fr", "created_at": now}
            for n in range(len(slugs) * per_theme)]
    session.execute(sa.insert(User), rows)
    ids = list(session.scalars(sa.select(User.id).where(User.email.like("f%@bench.test"))
                               .order_by(User.id)))
    theme_ids = dict(session.execute(sa.select(Theme.slug, Theme.id)
                                     .where(Theme.slug.in_(slugs))).all())
    session.execute(sa.insert(Follow), [
        {"user_id": user_id, "target": "theme", "created_at": now,
         "theme_id": theme_ids[slugs[n // per_theme]]} for n, user_id in enumerate(ids)])
