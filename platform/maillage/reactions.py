"""What each event causes, as its feature declares it: the one registry, keyed by event class.

A feature's `reactions.py` declares, for each event of its `events.py`, one `Reaction`: the
handlers that run when it is processed (a fan-out of notifications, sockets closed), what its
notifications say in each language, the email category they fall in, the moderated content it
is about, and its line in email-only subscribers' digests. `maillage.features` imports every
feature's declarations; `workers.events.process_event` runs them. So an event kind is added in
its feature package, and nowhere else:

1. its dataclass in `<feature>/events.py`;
2. its `register(Reaction(...))` in `<feature>/reactions.py`, with the handlers beside it;
3. the operation that records it (`events.record`);
4. its tests (`tests/test_reactions.py` checks that every event class made every decision).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from maillage.events import DomainEvent, Event, UnknownEvent


@dataclass
class Fanout:
    """What a handler did: how many notifications it inserted, and the activity message for
    public rooms (sent once the notifications are committed)."""

    notified: int = 0
    rooms: list[str] = field(default_factory=list)
    activity: dict[str, Any] | None = None


Handler = Callable[[Event, Any], Fanout]  # the outbox row, and its payload as its class


@dataclass(frozen=True)
class Text:
    """What a notification says, with `{actor}`, `{title}` and `{town}` of its data."""

    fr: str
    en: str

    def says(self, language: str) -> str:
        return self.en if language == "en" else self.fr


@dataclass(frozen=True)
class Reaction:
    """Every decision about one event class; none has a default, so none is forgotten.

    - `handlers`: run in order, in the transaction that marks the event processed.
    - `text`: what its notifications say; None when it notifies nobody.
    - `category`: the email category (`emails.models.CATEGORIES`) of its notifications, per
      reason, `None` as the key for any other reason; empty when it notifies nobody.
    - `about`: the moderated content it names, kind of content (`moderation.queries.TARGETS`)
      to the payload field holding its id: hiding that content withdraws its notifications.
    - `public_link`: the page its line in email-only subscribers' digests links to (from its
      payload's fields), or None when they do not hear of it.
    """

    event: type[DomainEvent]
    handlers: tuple[Handler, ...]
    text: Text | None
    category: Mapping[str | None, str]
    about: Mapping[str, str]
    public_link: str | None


_REACTIONS: dict[type[DomainEvent], Reaction] = {}
_EVERY_EVENT: list[Handler] = []


def register(reaction: Reaction) -> None:
    """Declare what `reaction.event` causes; declaring one class twice is an error."""
    if reaction.event in _REACTIONS:
        raise ValueError(f"{reaction.event.__qualname__} already has its reaction")
    _REACTIONS[reaction.event] = reaction


def after_every_event(handler: Handler) -> Handler:
    """Declare a handler that runs after the handlers of every event (the immediate mail of
    the notifications they inserted, say)."""
    _EVERY_EVENT.append(handler)
    return handler


def of_kind(kind: str) -> Reaction:
    """Return the reaction to events of `kind`; UnknownEvent when no feature declares one."""
    reaction = _REACTIONS.get(DomainEvent.class_of(kind))
    if reaction is None:
        raise UnknownEvent(f"no reaction is declared for {kind!r}")
    return reaction


def handlers_of(kind: str) -> tuple[Handler, ...]:
    """Return what runs for an event of `kind`, its own handlers first."""
    return (*of_kind(kind).handlers, *_EVERY_EVENT)


def every() -> list[Reaction]:
    """Every reaction declared, by kind."""
    return sorted(_REACTIONS.values(), key=lambda reaction: reaction.event.kind)


def about(content: str) -> list[tuple[str, str]]:
    """Return the (event kind, payload field) of the events that name content of kind
    `content`."""
    return [(reaction.event.kind, reaction.about[content]) for reaction in every()
            if content in reaction.about]
