"""The outbox of events, and the base of the events that features declare.

Every domain operation that others may care about records an event in the `events` table in
the same transaction as its rows (the transactional outbox): the event exists if and only if
the change was committed. Workers process the events afterwards, with the reactions each
feature declares (`maillage.reactions`).

Each event is a past-tense dataclass of its feature's `events.py`; its `kind` is what the
table stores.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
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
