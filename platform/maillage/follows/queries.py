"""Reading follows."""

from __future__ import annotations

import sqlalchemy as sa

from maillage import policy
from maillage.accounts.models import User
from maillage.database import session
from maillage.fields import ascii_int
from maillage.follows.models import Follow, Target
from maillage.help.queries import get_request
from maillage.initiatives.queries import get_initiative
from maillage.themes.queries import get_theme
from maillage.towns.queries import get_town


def follows_of(user_id: int) -> list[Follow]:
    """Return what `user_id` follows, latest first."""
    return list(session.scalars(sa.select(Follow).where(Follow.user_id == user_id)
                                .order_by(Follow.id.desc())))


def is_following(user_id: int, **target: int | str) -> bool:
    """Tell whether `user_id` follows the thing named by one keyword, e.g. `initiative_id=3`."""
    [(column, key)] = target.items()
    return session.scalar(sa.select(sa.exists().where(
        Follow.user_id == user_id, getattr(Follow, column) == key))) or False


def target_key(target: Target, key: str, viewer: User | None) -> int | str | None:
    """Return the stored key of the thing `key` names (a slug, an INSEE code, an id), if
    `viewer` may see it; else None."""
    if target is Target.THEME:
        theme = get_theme(key)
        return theme.id if theme else None
    if target is Target.TOWN:
        town = get_town(key)
        return town.insee if town else None
    row_id = ascii_int(key)
    if row_id is None:
        return None
    if target is Target.HELP_REQUEST:
        request = get_request(row_id)
        return request.id if request and policy.can_see(viewer, request) else None
    initiative = get_initiative(row_id)
    return initiative.id if initiative and policy.can_see(viewer, initiative) else None
