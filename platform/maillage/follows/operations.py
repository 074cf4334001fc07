"""Following and unfollowing; both are idempotent, so a retried click is harmless."""

from __future__ import annotations

import sqlalchemy as sa

from maillage.accounts.models import User
from maillage.database import session
from maillage.follows.models import Follow, Target

COLUMNS = {
    Target.THEME: Follow.theme_id,
    Target.TOWN: Follow.town_insee,
    Target.INITIATIVE: Follow.initiative_id,
    Target.HELP_REQUEST: Follow.help_request_id,
}


def follow(user: User, target: Target, key: int | str) -> Follow:
    """Make `user` follow the thing; following it again leaves the one follow there is."""
    column = COLUMNS[target]
    existing = session.scalar(sa.select(Follow).where(Follow.user_id == user.id, column == key))
    if existing is not None:
        return existing
    row = Follow(user_id=user.id, target=target, **{column.key: key})
    # A concurrent follow of the same thing may win the race; the savepoint keeps ours harmless.
    try:
        with session.begin_nested():
            session.add(row)
    except sa.exc.IntegrityError:
        return session.scalar(sa.select(Follow).where(Follow.user_id == user.id, column == key))
    return row


def unfollow(user: User, target: Target, key: int | str) -> None:
    """Stop `user` following the thing; unfollowing what one does not follow is no error."""
    session.execute(sa.delete(Follow).where(Follow.user_id == user.id,
                                            COLUMNS[target] == key))
