"""Keeping the notifications table the size of what people still need: pruning.

A network may write ten million notifications a month; a member reads theirs in the latest
pages, or in a digest of the last day or week. So the read notifications older than
NOTIFICATIONS_KEEP_READ_DAYS (90 by default) are deleted, and the unread ones older than
NOTIFICATIONS_KEEP_UNREAD_DAYS (365): a year unread is a notification nobody will open.

Pruning rather than partitioning by month, from bench/notifications.py: a member's list and
unread count are index range scans on (user_id, id) and on the unread partial index, whose
cost follows the member's rows, not the table's (a member's 100,000 rows cost the same among
300,000 or 3 million); what a growing table costs is disk, vacuum and the cache, which
pruning bounds as well as dropping monthly partitions would. Partitions would cost more than
they save here: every member query would scan one index per month unless it also named the
month; the unique (event_id, user_id) that keeps a fan-out from notifying twice would have to
include the partition key, so it would no longer say that; retention by read state is not a
partition boundary; and SQLite, the embedded mode, has no partitions.

Deleting goes in batches of ids, each its own short transaction (`BATCH` rows looked at, by the
primary key), so a run never holds locks on millions of rows nor a transaction open for long,
and the fan-outs writing beside it are not held up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from maillage.database import transaction
from maillage.notifications import operations, queries

BATCH = 5_000


def cutoffs(config: Mapping[str, Any], now: datetime) -> tuple[datetime, datetime]:
    """Return the times before which read, and unread, notifications are pruned."""
    return (now - timedelta(days=config["NOTIFICATIONS_KEEP_READ_DAYS"]),
            now - timedelta(days=config["NOTIFICATIONS_KEEP_UNREAD_DAYS"]))


def span(read_before: datetime, unread_before: datetime) -> tuple[int, int] | None:
    """Return the ids (first, bound excluded) among which `prune` deletes, None if no row."""
    with transaction():
        return queries.id_range_before(max(read_before, unread_before))


def prune(read_before: datetime, unread_before: datetime, *, batch: int = BATCH,
          ids: tuple[int, int] | None = None,
          progress: Callable[[int], None] | None = None) -> int:
    """Delete the notifications read and created before `read_before`, and those created
    before `unread_before` whatever their state, in batches; return how many.

    `ids` is their `span` when the caller has it already; `progress` is told how many ids each
    batch went past.
    """
    ids = ids or span(read_before, unread_before)
    if ids is None:
        return 0
    after, below = ids[0] - 1, ids[1]
    deleted = 0
    while True:
        with transaction():
            count, last = operations.prune_batch(read_before=read_before,
                                                 unread_before=unread_before, after=after,
                                                 below=below, limit=batch)
        if last is None:
            return deleted
        deleted += count
        if progress is not None:
            progress(last - after)
        after = last
