"""The events of Maillage and the outbox they are recorded in.

Every domain operation that others may care about records an event in the `events` table in
the same transaction as its rows (the transactional outbox): the event exists if and only if
the change was committed. Workers consume the events afterwards.

Each event is a past-tense dataclass; its `kind` is what the table stores.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Mapped, Session, mapped_column

from maillage.database import Base, UTCDateTime, session, utcnow

PROCESS_EVENT = "workers.events.process_event"


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

    __table_args__ = (
        sa.Index("ix_events_kind", "kind"),
        sa.Index("ix_events_pending", "processed_at", "created_at"),
    )


@dataclasses.dataclass(frozen=True)
class DomainEvent:
    """Base of the event dataclasses; `kind` names the event in the outbox."""

    kind: ClassVar[str]


@dataclasses.dataclass(frozen=True)
class MemberVerified(DomainEvent):
    """A person's membership of a town was verified, by a peer, a moderator, an admin or OIDC."""

    kind: ClassVar[str] = "member.verified"
    membership_id: int
    user_id: int
    town_insee: str
    source: str


@dataclasses.dataclass(frozen=True)
class SessionsEnded(DomainEvent):
    """Every session of an account was ended (sign-out everywhere, a new password, a first
    provider sign-in, the account deleted): its sockets must close, wherever they are."""

    kind: ClassVar[str] = "account.sessions_ended"
    user_id: int


@dataclasses.dataclass(frozen=True)
class SignedOut(DomainEvent):
    """A person signed out of one browser: the sockets that browser's session opened close."""

    kind: ClassVar[str] = "account.signed_out"
    user_id: int
    sign_in: str  # the random mark of that browser's session


@dataclasses.dataclass(frozen=True)
class TokenRevoked(DomainEvent):
    """A personal token was revoked: the sockets it opened must close, wherever they are."""

    kind: ClassVar[str] = "token.revoked"
    token_id: int
    user_id: int


@dataclasses.dataclass(frozen=True)
class InitiativePublished(DomainEvent):
    """A verified member posted an initiative of their town."""

    kind: ClassVar[str] = "initiative.published"
    initiative_id: int
    town_insee: str
    themes: list[str]
    title: str


@dataclasses.dataclass(frozen=True)
class InitiativeUpdated(DomainEvent):
    """An initiative's content changed (its status changing is InitiativeStatusChanged)."""

    kind: ClassVar[str] = "initiative.updated"
    initiative_id: int
    town_insee: str
    themes: list[str]
    title: str
    fields: list[str]


@dataclasses.dataclass(frozen=True)
class InitiativeStatusChanged(DomainEvent):
    """An initiative moved from idea to in progress, or to done: news for its followers."""

    kind: ClassVar[str] = "initiative.status_changed"
    initiative_id: int
    town_insee: str
    themes: list[str]
    title: str
    old_status: str
    new_status: str


@dataclasses.dataclass(frozen=True)
class InitiativeCommented(DomainEvent):
    """Someone commented on an initiative."""

    kind: ClassVar[str] = "initiative.commented"
    initiative_id: int
    comment_id: int
    town_insee: str
    title: str


@dataclasses.dataclass(frozen=True)
class InitiativeReplicated(DomainEvent):
    """Another town said it did the same: the original spread."""

    kind: ClassVar[str] = "initiative.replicated"
    initiative_id: int
    replication_id: int
    town_insee: str
    replicating_town_insee: str
    title: str


@dataclasses.dataclass(frozen=True)
class HelpRequested(DomainEvent):
    """A town asked for help; `circle` is how far it was routed (department, region, network)."""

    kind: ClassVar[str] = "help.requested"
    help_request_id: int
    town_insee: str
    themes: list[str]
    title: str
    circle: str


@dataclasses.dataclass(frozen=True)
class HelpAnswered(DomainEvent):
    """Someone answered a help request."""

    kind: ClassVar[str] = "help.answered"
    help_request_id: int
    answer_id: int
    town_insee: str
    title: str
    circle: str
    by_referent: bool


@dataclasses.dataclass(frozen=True)
class HelpAccepted(DomainEvent):
    """The asker accepted an answer: the request is resolved."""

    kind: ClassVar[str] = "help.accepted"
    help_request_id: int
    answer_id: int
    town_insee: str
    title: str
    circle: str


@dataclasses.dataclass(frozen=True)
class HelpClosed(DomainEvent):
    """The asker closed the request unresolved: settled elsewhere, or no longer needed."""

    kind: ClassVar[str] = "help.closed"
    help_request_id: int
    town_insee: str
    title: str
    circle: str


@dataclasses.dataclass(frozen=True)
class HelpEscalated(DomainEvent):
    """Nobody answered within the delay: the request reaches the next circle, once."""

    kind: ClassVar[str] = "help.escalated"
    help_request_id: int
    town_insee: str
    themes: list[str]
    title: str
    circle: str
    previous_circle: str


def record(event: DomainEvent, *, actor_id: int | None) -> Event:
    """Add `event` to the outbox of the current transaction."""
    row = Event(kind=event.kind, actor_id=actor_id, payload=dataclasses.asdict(event))
    session.add(row)
    return row


def dispatch(app: Flask, event_ids: Iterable[int]) -> None:
    """Queue the processing of committed events; an unreachable queue is left to the sweeper."""
    queues = app.extensions["maillage.queues"]
    for event_id in event_ids:
        queues.enqueue("events", PROCESS_EVENT, event_id, job_id=f"event-{event_id}")


@sa_event.listens_for(Session, "after_flush")
def _collect(flushed: Session, _context: object) -> None:
    ids = [row.id for row in flushed.new if isinstance(row, Event)]
    if ids:
        flushed.info.setdefault("outbox", []).extend(ids)


@sa_event.listens_for(Session, "after_commit")
def _dispatch_committed(committed: Session) -> None:
    # A savepoint released is not a commit: its events wait for the transaction's end.
    if committed.in_nested_transaction():
        return
    ids = committed.info.pop("outbox", None)
    if ids and has_app_context():
        dispatch(current_app._get_current_object(), ids)  # type: ignore[attr-defined]


@sa_event.listens_for(Session, "after_rollback")
def _forget_rolled_back(rolled_back: Session) -> None:
    # A savepoint rolled back (a lost race to follow) leaves the transaction's events be.
    if not rolled_back.in_nested_transaction():
        rolled_back.info.pop("outbox", None)
