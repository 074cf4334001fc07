"""The outbox of events, and the base of the events that features declare.

Every domain operation that others may care about records an event in the `events` table in
the same transaction as its rows (the transactional outbox): the event exists if and only if
the change was committed. Workers process the events afterwards, with the reactions each
feature declares (`maillage.reactions`).

Each event is a past-tense dataclass of its feature's `events.py`; its `kind` is what the
table stores.

An event that keeps failing (a poison event) is tried EVENT_MAX_TRIES times, counted in its
row, then marked failed with its error; nobody tries it again until `maillage events replay`.

Under load, a worker's first try of an event takes along other events nobody has tried yet
(`take_batch`), so that a backlog costs one job and one transaction per batch rather than per
event; each of them keeps its own job until the batch commits, so a batch that fails changes
nothing and each event is then tried on its own, as if there were no batches.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import Mapped, mapped_column

from maillage.database import Base, UTCDateTime, after_commit, session, utcnow
from maillage.jobs import Job


class Event(Base):
    """A committed fact, waiting to be (or already) fanned out to the people it concerns."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(64))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The runs that began, counted before each runs: one that killed its worker counts too.
    tries: Mapped[int] = mapped_column(default=0, server_default="0")
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    # On PostgreSQL, the transaction that wrote the row (a server default): digests cut their
    # windows by it (emails.windows). NULL on SQLite, where the id's order is commit order.
    txid: Mapped[int | None] = mapped_column(sa.BigInteger, server_default=sa.FetchedValue())

    __table_args__ = (
        sa.Index("ix_events_kind", "kind"),
        sa.Index("ix_events_pending", "processed_at", "created_at"),
    )

    def as_domain(self) -> DomainEvent:
        """Return the event as its class says it, from the stored payload."""
        return DomainEvent.class_of(self.kind)(**self.payload)


class UnknownEvent(LookupError):
    """An event kind no class declares: a misspelling or a kind removed, never ignored."""


@dataclasses.dataclass(frozen=True)
class DomainEvent:
    """Base of the event dataclasses, which each feature declares in its `events.py`.

    `kind` names the event in the outbox (past tense: "initiative.published"); a subclass is
    found again by it, so a payload comes back as its class (`Event.as_domain`).
    """

    kind: ClassVar[str]
    _classes: ClassVar[dict[str, type[DomainEvent]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        known = DomainEvent._classes.get(cls.kind)
        if known is not None and known.__qualname__ != cls.__qualname__:
            raise TypeError(f"{cls.__qualname__} and {known.__qualname__} share the kind "
                            f"{cls.kind!r}")
        DomainEvent._classes[cls.kind] = cls

    @staticmethod
    def class_of(kind: str) -> type[DomainEvent]:
        """Return the class of events of `kind`; UnknownEvent if none declares it."""
        try:
            return DomainEvent._classes[kind]
        except KeyError:
            raise UnknownEvent(f"no event class declares the kind {kind!r}") from None

    @staticmethod
    def classes() -> list[type[DomainEvent]]:
        """Every event class declared so far, by kind."""
        return [DomainEvent._classes[kind] for kind in sorted(DomainEvent._classes)]


def record(event: DomainEvent, *, actor_id: int | None) -> Event:
    """Add `event` to the outbox of the current transaction; its processing is queued once
    the transaction commits (`database.after_commit`), and never if it rolls back."""
    row = Event(kind=event.kind, actor_id=actor_id, payload=dataclasses.asdict(event))
    session.add(row)
    after_commit(lambda: dispatch(current_app._get_current_object(),  # type: ignore[attr-defined]
                                  [row.id]))
    return row


def dispatch(app: Flask, event_ids: Iterable[int]) -> None:
    """Queue the processing of committed events; an unreachable queue is left to the sweeper."""
    queues = app.extensions["maillage.queues"]
    for event_id in event_ids:
        queues.enqueue("events", Job.PROCESS_EVENT, event_id, job_id=f"event-{event_id}")


def to_process() -> sa.ColumnElement[bool]:
    """The events still to process: neither processed nor failed for good."""
    return sa.and_(Event.processed_at.is_(None), Event.failed_at.is_(None))


def count_try(event_id: int, max_tries: int) -> int | None:
    """Count a try of event `event_id`; return its number, or None when it is not to be tried:
    processed, failed, deleted, or out of tries.

    Out of tries means the last try never came back (its worker died): the event is marked
    failed here, with the last error it recorded, if any.
    """
    counted = session.scalar(sa.update(Event).where(Event.id == event_id, to_process(),
                                                    Event.tries < max_tries)
                             .values(tries=Event.tries + 1).returning(Event.tries))
    if counted is not None:
        return counted
    session.execute(sa.update(Event).where(Event.id == event_id, to_process()).values(
        failed_at=utcnow(),
        last_error=sa.func.coalesce(Event.last_error, "the worker stopped during the last try")))
    return None


def take_batch(event_id: int, size: int) -> list[Event]:
    """Lock event `event_id`, if it is still to process, and up to `size - 1` events nobody
    has tried yet, oldest first; return them, `event_id` first, or [] when it is not to process.

    Events another worker holds are skipped, not waited for. Untried only: an event being
    retried has failed before, and it runs alone, spending its own tries and nobody else's.
    """
    first = session.scalar(sa.select(Event).where(Event.id == event_id, to_process())
                           .with_for_update())
    if first is None or size <= 1:
        return [first] if first else []
    others = session.scalars(sa.select(Event).where(Event.id != event_id, to_process(),
                                                    Event.tries == 0)
                             .order_by(Event.id).limit(size - 1)
                             .with_for_update(skip_locked=True))
    return [first, *others]


def mark_processed(event_id: int, batch: Collection[int]) -> None:
    """Mark the events of `batch` processed; each but `event_id`, whose try was counted before
    it ran (`count_try`), counts its try here, in the transaction of its work."""
    session.execute(sa.update(Event).where(Event.id.in_(batch)).values(
        processed_at=utcnow(),
        tries=Event.tries + sa.case((Event.id == event_id, 0), else_=1))
        .execution_options(synchronize_session=False))


def note_failure(event_id: int, error: str, *, final: bool) -> None:
    """Keep the error of a failed try of event `event_id`; a `final` one fails the event."""
    session.execute(sa.update(Event).where(Event.id == event_id, to_process())
                    .values(last_error=error, failed_at=utcnow() if final else None))


def replay(event_id: int) -> bool:
    """Give failed event `event_id` its tries back, for when its cause is gone; False if it
    is not failed. The caller queues it once this commits."""
    reset = session.execute(sa.update(Event).where(Event.id == event_id,
                                                   Event.failed_at.is_not(None))
                            .values(tries=0, failed_at=None, last_error=None))
    return bool(reset.rowcount)


def failed() -> list[Event]:
    """The events failed for good, most recent failure first."""
    return list(session.scalars(sa.select(Event).where(Event.failed_at.is_not(None))
                                .order_by(Event.failed_at.desc(), Event.id.desc())))
