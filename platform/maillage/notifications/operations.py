"""Writing notifications: the bulk fan-out of an event, marking them read, pruning old ones."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from maillage.database import insert, session, utcnow
from maillage.events import Event
from maillage.notifications.models import Notification
from maillage.notifications.queries import Candidates

# The memory PostgreSQL may sort a fan-out's candidates in, for this transaction only: a
# million followers make a 100 MB sort, which the default 4 MB would spill to disk (twice the
# time of the ranking, bench/README.md).
FANOUT_WORK_MEM = "256MB"


def notify(event: Event, candidates: Sequence[Candidates], data: dict[str, Any]) -> int:
    """Insert one notification per person among `candidates`, never the actor, in one query.

    Returns how many rows this call inserted: a second run for the same event inserts nothing
    (unique event and user), so nobody is notified twice.
    """
    if not candidates:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.set_config("work_mem", FANOUT_WORK_MEM, True)))
    # The columns by name, each subquery being the only FROM of its SELECT: deriving them
    # from the subqueries (`.c`) would cost more CPU than all the rest of the statement.
    user_id, priority, reason, reason_ref, rank = (
        sa.column(name) for name in ("user_id", "priority", "reason", "reason_ref", "rank"))
    ranked = sa.select(
        user_id, reason, reason_ref,
        sa.func.row_number().over(partition_by=user_id,
                                  order_by=(priority, reason_ref)).label(rank.name),
    ).select_from(sa.union_all(*candidates).subquery("candidates")).subquery("ranked")
    chosen = sa.select(
        user_id, sa.literal(event.id), sa.literal(event.kind), reason, reason_ref,
        sa.literal(data, sa.JSON), sa.literal(utcnow(), Notification.created_at.type),
    ).select_from(ranked).where(rank == 1)
    if event.actor_id is not None:
        chosen = chosen.where(user_id != event.actor_id)
    statement = insert(Notification).from_select(
        ["user_id", "event_id", "kind", "reason", "reason_ref", "data", "created_at"], chosen)
    # The event's first fan-out of its transaction (its job holds the event's row) can
    # conflict with nothing: ON CONFLICT's speculative insertion, a fifth of a million-row
    # fan-out (bench/README.md), is paid only by the handlers after the first.
    if session.scalar(sa.select(sa.exists().where(Notification.event_id == event.id))):
        statement = statement.on_conflict_do_nothing(index_elements=["event_id", "user_id"])
    return session.execute(statement.execution_options(preserve_rowcount=True)).rowcount


def mark_read(user_id: int, *, ids: Sequence[int] = (), up_to: int | None = None) -> int:
    """Mark some of `user_id`'s notifications read, or all up to an id; return how many."""
    condition = Notification.id.in_(list(ids)) if up_to is None else Notification.id <= up_to
    result = session.execute(sa.update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None), condition,
    ).values(read_at=utcnow()))
    return result.rowcount


def withdraw(events: Sequence[tuple[str, str]], value: int) -> int:
    """Delete the notifications of the events about something a moderator hid; return how many.

    `events` are the (kind, payload field) of the events that name the thing
    (`reactions.about`), `value` its id. Read or not, these notifications lead to what nobody
    may see, from the list, the digests and the notices still queued (which find them gone).
    Restoring the thing does not bring them back.
    """
    if not events:
        return 0
    about = sa.select(Event.id).where(sa.or_(*(
        (Event.kind == kind) & (Event.payload[key].as_integer() == value)
        for kind, key in events)))
    deleted = session.execute(sa.delete(Notification).where(Notification.event_id.in_(about)))
    return deleted.rowcount


def prune_batch(*, read_before: datetime, unread_before: datetime, after: int, below: int,
                limit: int) -> tuple[int, int | None]:
    """Delete the notifications read and created before `read_before`, or created before
    `unread_before` read or not, among the `limit` next ids after `after` (and below `below`).

    Returns how many were deleted and the last id looked at (None: none was left to look at),
    from which the next batch goes on.
    """
    window = sa.select(Notification.id).where(Notification.id > after, Notification.id < below) \
        .order_by(Notification.id).limit(limit).subquery()
    last = session.scalar(sa.select(sa.func.max(window.c.id)))
    if last is None:
        return 0, None
    deleted = session.execute(sa.delete(Notification).where(
        Notification.id > after, Notification.id <= last,
        sa.or_(Notification.read_at.is_not(None) & (Notification.created_at < read_before),
               Notification.created_at < unread_before)))
    return deleted.rowcount, last
