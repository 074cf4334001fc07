"""Where a digest's window ends: at what had committed when its run began, not at a clock.

A run takes a snapshot of the commits before it reads anything; a digest holds what its end
snapshot sees and its start snapshot (the previous digest's end) did not. Each transaction is
seen first by exactly one snapshot of a recipient's chain, so each item falls in exactly one
digest, whenever its transaction took its ids and whenever it committed: an item committed
at 07:00:00.2 after a run's snapshot goes in the next digest, not in none or in two.

On PostgreSQL a snapshot is the server's (`pg_current_snapshot()`, written `xmin:xmax:xip`):
it sees the transactions below `xmax` but those in progress (`xip`), and an item's position
is the transaction that wrote it (the `txid` column). On SQLite one writer at a time makes id
order commit order: a snapshot is the table's next id, in the same form (`n:n:`), and an
item's position is its id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from maillage.database import session
from maillage.events import Event
from maillage.notifications.models import Notification

Model = type[Event] | type[Notification]


@dataclass(frozen=True)
class Snapshot:
    """The transactions committed at a moment: those below `xmax` but the `running` ones."""

    xmin: int
    xmax: int
    running: frozenset[int] = frozenset()

    @classmethod
    def parse(cls, text: str) -> Snapshot:
        xmin, xmax, running = text.split(":")
        return cls(int(xmin), int(xmax), frozenset(int(x) for x in running.split(",") if x))

    def __str__(self) -> str:
        return f"{self.xmin}:{self.xmax}:{','.join(map(str, sorted(self.running)))}"

    def sees(self, position: int) -> bool:
        return position < self.xmax and position not in self.running

    def seen(self, position: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
        """`sees` in SQL."""
        condition = position < self.xmax
        return condition & position.not_in(sorted(self.running)) if self.running else condition


@dataclass(frozen=True)
class Window:
    """What a digest holds: seen by `end` and not by `start`; with no start (a first digest,
    or one after a digest recorded before windows had snapshots), created from `floor` on."""

    start: Snapshot | None
    floor: datetime
    end: Snapshot

    def holds(self, position: int, created_at: datetime) -> bool:
        if not self.end.sees(position):
            return False
        return created_at >= self.floor if self.start is None else not self.start.sees(position)

    def where(self, model: Model) -> sa.ColumnElement[bool]:
        """`holds` in SQL, for rows of `model`."""
        seen = self.end.seen(position(model))
        if self.start is None:
            return seen & (model.created_at >= self.floor)
        return seen & ~self.start.seen(position(model))


def around(windows: Sequence[Window], model: Model) -> sa.ColumnElement[bool]:
    """A condition that every row some of `windows` holds meets (and few others): one query
    for a batch of recipients, whose windows `holds` then tells apart."""
    column = position(model)
    condition = column < max(window.end.xmax for window in windows)
    starts = [window.start.xmin for window in windows if window.start is not None]
    floors = [window.floor for window in windows if window.start is None]
    after = []
    if starts:
        after.append(column >= min(starts))
    if floors:
        after.append(model.created_at >= min(floors))
    return condition & sa.or_(*after)


def position(model: Model) -> sa.ColumnElement[int]:
    """The column that orders `model`'s rows by commit on this database."""
    return model.txid if session.get_bind().dialect.name == "postgresql" else model.id


def taken(model: Model) -> Snapshot:
    """A snapshot of the commits now, for items of `model` (SQLite needs the table)."""
    if session.get_bind().dialect.name == "postgresql":
        return Snapshot.parse(session.scalar(sa.text("SELECT pg_current_snapshot()::text")))
    following = (session.scalar(sa.select(sa.func.max(model.id))) or 0) + 1
    return Snapshot(following, following)
