"""Who an event concerns, as set-based queries; and reading one's notifications.

Each `*_followers` query yields candidate rows (user_id, priority, reason, reason_ref); the
fan-out keeps one row per person, the one of lowest priority number, so that someone who
follows both the theme and the town of an initiative gets one notification, for the closer
reason.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from maillage.database import session
from maillage.follows.models import Follow
from maillage.notifications.models import Notification, Reason
from maillage.themes.models import Theme

Candidates = sa.Select

# The closer the reason, the lower the number.
PERSONAL, INITIATIVE, TOWN, THEME = 0, 1, 2, 3


def _candidates(user_id: Any, priority: int, reason: Reason, reason_ref: Any) -> Candidates:
    def column(value: Any) -> Any:
        return sa.literal(value) if isinstance(value, int | str) else value

    return sa.select(column(user_id).label("user_id"), sa.literal(priority).label("priority"),
                     sa.literal(reason.value).label("reason"),
                     column(reason_ref).label("reason_ref"))


def person(user_id: int, reason: Reason) -> Candidates:
    """One named person: the author of what was answered, the member verified..."""
    return _candidates(user_id, PERSONAL, reason, "")


def initiative_followers(initiative_id: int) -> Candidates:
    return _candidates(Follow.user_id, INITIATIVE, Reason.INITIATIVE, str(initiative_id)) \
        .where(Follow.initiative_id == initiative_id)


def help_request_followers(help_request_id: int) -> Candidates:
    return _candidates(Follow.user_id, INITIATIVE, Reason.HELP_REQUEST, str(help_request_id)) \
        .where(Follow.help_request_id == help_request_id)


def routed_referents(user_ids: sa.Select, circle: str) -> Candidates:
    """The referents a help request was routed to (`user_ids`), in `circle`."""
    routed = user_ids.subquery("routed")
    return _candidates(routed.c.user_id, PERSONAL, Reason.REFERENT, circle)


def town_followers(insee: str) -> Candidates:
    return _candidates(Follow.user_id, TOWN, Reason.TOWN, insee).where(Follow.town_insee == insee)


def theme_followers(slugs: Iterable[str]) -> Candidates:
    return _candidates(Follow.user_id, THEME, Reason.THEME, Theme.slug) \
        .join(Theme, Theme.id == Follow.theme_id).where(Theme.slug.in_(list(slugs)))


def notifications_of(user_id: int, *, after: int | None, limit: int) -> list[Notification]:
    """Return `user_id`'s notifications in id order: those after `after`, else the latest.

    The user is a range of one, and the order (user_id, id): so PostgreSQL can only read the
    user's part of the (user_id, id) index. With `user_id = ...` and the order by id, which
    the primary key gives as well, it walks the primary key backwards filtering on the user
    when the user has many rows, 1 ms when they are recent, 200 ms and more when they are all
    older than the others' latest hundreds of thousands (bench/notifications.py).
    """
    query = sa.select(Notification).where(Notification.user_id.between(user_id, user_id))
    if after is not None:
        return list(session.scalars(query.where(Notification.id > after)
                                    .order_by(Notification.user_id, Notification.id)
                                    .limit(limit)))
    latest = list(session.scalars(query.order_by(Notification.user_id.desc(),
                                                 Notification.id.desc()).limit(limit)))
    return latest[::-1]


# The unread count stops at this: the badge says "99+" past 99, and a member who never reads
# (100,000 unread) costs a hundred entries of the unread index, not 100,000.
UNREAD_CAP = 100


def unread_count(user_id: int) -> int:
    """Return how many notifications `user_id` has not read, counted up to UNREAD_CAP."""
    unread = sa.select(sa.literal(1)).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)) \
        .limit(UNREAD_CAP).subquery()
    return session.scalar(sa.select(sa.func.count()).select_from(unread)) or 0


def of_event_for(event_id: int, user_ids: Collection[int], notified: int) -> dict[int, int]:
    """Return user id -> notification id, for the event's notifications of `user_ids`.

    `notified` is how many notifications the event has: whichever side is smaller travels.
    Fifty notifications are read whole and filtered here; for a million of them, the ids of
    the few thousand people online go to PostgreSQL as one array (bound one by one, hundreds
    of ids would cost more to plan than the query costs to run), each looked up in the
    event's index (LATERAL and its LIMIT: one probe per person online, whatever the
    statistics). A filter `user_id = ANY(...)`, or a join the planner was free to choose,
    let PostgreSQL, its statistics not yet aware of the rows just written, read all the
    event's rows instead (7 s for a million).
    """
    if not user_ids or not notified:
        return {}
    query = sa.select(Notification.user_id, Notification.id) \
        .where(Notification.event_id == event_id)
    if notified <= len(user_ids):
        wanted = user_ids if isinstance(user_ids, set | frozenset) else set(user_ids)
        return {user_id: notification_id for user_id, notification_id in session.execute(query)
                if user_id in wanted}
    if session.get_bind().dialect.name != "postgresql":
        return dict(session.execute(query.where(Notification.user_id.in_(list(user_ids)))).all())
    online = sa.func.unnest(sa.bindparam("user_ids", list(user_ids),
                                         type_=postgresql.ARRAY(sa.BigInteger))) \
        .table_valued("user_id").render_derived()
    found = sa.select(Notification.id).where(Notification.event_id == event_id,
                                             Notification.user_id == online.c.user_id) \
        .limit(1).lateral()  # LIMIT keeps it a subquery: one probe, never a join of all
    return dict(session.execute(sa.select(online.c.user_id, found.c.id)
                                .select_from(online.join(found, sa.true()))).all())


def id_range_before(when: datetime) -> tuple[int, int] | None:
    """Return the ids from the first notification to the first created at `when` or later
    (excluded; past the last one if none is): where every notification older lies.

    Ids grow with time, so this walks the oldest rows only, by the primary key: what the
    retention is about to delete anyway. A row committed a moment late, older than one before
    it, may lie past the bound: the next run finds it.
    """
    first = session.scalar(sa.select(sa.func.min(Notification.id)))
    if first is None:
        return None
    bound = session.scalar(sa.select(Notification.id).where(Notification.created_at >= when)
                           .order_by(Notification.id).limit(1))
    if bound is None:
        bound = (session.scalar(sa.select(sa.func.max(Notification.id))) or first) + 1
    return first, bound
