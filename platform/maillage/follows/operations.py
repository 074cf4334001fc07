"""Following and unfollowing; both are idempotent, so a retried click is harmless."""

from __future__ import annotations

import sqlalchemy as sa

from maillage.accounts.models import User
from maillage.database import insert, session
from maillage.follows.models import Follow, Target

COLUMNS = {
    Target.THEME: Follow.theme_id,
    Target.TOWN: Follow.town_insee,
    Target.INITIATIVE: Follow.initiative_id,
    Target.HELP_REQUEST: Follow.help_request_id,
}


def follow(user: User, target: Target, key: int | str) -> Follow:
    """Make `user` follow the thing; following it again leaves the one follow there is.

    One INSERT that yields to the follow already there, even one a concurrent request has
    just added: no look beforehand, which a new initiative's author would pay for nothing.
    """
    column = COLUMNS[target]
    added = session.scalar(
        insert(Follow).values(user_id=user.id, target=target, **{column.key: key})
        .on_conflict_do_nothing(index_elements=["user_id", column.key]).returning(Follow))
    if added is not None:
        return added
    return session.scalars(sa.select(Follow).where(Follow.user_id == user.id, column == key)).one()


def unfollow(user: User, target: Target, key: int | str) -> None:
    """Stop `user` following the thing; unfollowing what one does not follow is no error."""
    session.execute(sa.delete(Follow).where(Follow.user_id == user.id,
                                            COLUMNS[target] == key))
