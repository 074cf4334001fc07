"""Reading follows."""

from __future__ import annotations

import sqlalchemy as sa

from maillage.database import session
from maillage.follows.models import Follow


def follows_of(user_id: int) -> list[Follow]:
    """Return what `user_id` follows, latest first."""
    return list(session.scalars(sa.select(Follow).where(Follow.user_id == user_id)
                                .order_by(Follow.id.desc())))


def is_following(user_id: int, **target: int | str) -> bool:
    """Tell whether `user_id` follows the thing named by one keyword, e.g. `initiative_id=3`."""
    [(column, key)] = target.items()
    return session.scalar(sa.select(sa.exists().where(
        Follow.user_id == user_id, getattr(Follow, column) == key))) or False
