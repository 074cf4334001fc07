"""The events of help: requested, answered, accepted, closed, escalated; claimed, released
(by the claimer, by the clock, by a hand-over), said not solved.

Each says whether its request is `confidential` (a security incident): such an event is in
no public digest, and its notices are mailed at once, saying only where (`emails`).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from maillage.events import DomainEvent


@dataclasses.dataclass(frozen=True)
class HelpRequested(DomainEvent):
    """A town asked for help; `circle` is how far it was routed (department, region, network)."""

    kind: ClassVar[str] = "help.requested"
    help_request_id: int
    town_insee: str
    themes: list[str]
    title: str
    circle: str
    confidential: bool = False



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
    confidential: bool = False



@dataclasses.dataclass(frozen=True)
class HelpAccepted(DomainEvent):
    """The asker accepted an answer: the request is resolved."""

    kind: ClassVar[str] = "help.accepted"
    help_request_id: int
    answer_id: int
    town_insee: str
    title: str
    circle: str
    confidential: bool = False



@dataclasses.dataclass(frozen=True)
class HelpClosed(DomainEvent):
    """The asker closed the request unresolved: settled elsewhere, or no longer needed."""

    kind: ClassVar[str] = "help.closed"
    help_request_id: int
    town_insee: str
    title: str
    circle: str
    confidential: bool = False



@dataclasses.dataclass(frozen=True)
class HelpEscalated(DomainEvent):
    """Nobody answered nor claimed it within the delay: the request reaches the next circle
    of the ladder that holds referents."""

    kind: ClassVar[str] = "help.escalated"
    help_request_id: int
    town_insee: str
    themes: list[str]
    title: str
    circle: str
    previous_circle: str
    confidential: bool = False


@dataclasses.dataclass(frozen=True)
class HelpClaimed(DomainEvent):
    """A referent of its themes took the request on ("I'm on it"); the actor."""

    kind: ClassVar[str] = "help.claimed"
    help_request_id: int
    town_insee: str
    title: str
    circle: str
    claimer_id: int
    confidential: bool = False


@dataclasses.dataclass(frozen=True)
class HelpReleased(DomainEvent):
    """The claimer let the request go: it is offered again to the circles it reached."""

    kind: ClassVar[str] = "help.released"
    help_request_id: int
    town_insee: str
    title: str
    circle: str
    claimer_id: int
    confidential: bool = False


@dataclasses.dataclass(frozen=True)
class HelpClaimExpired(DomainEvent):
    """The claimer did not answer within the claim delay: released, offered again, and the
    claimer told."""

    kind: ClassVar[str] = "help.claim_expired"
    help_request_id: int
    town_insee: str
    title: str
    circle: str
    claimer_id: int
    confidential: bool = False


@dataclasses.dataclass(frozen=True)
class HelpHandedOver(DomainEvent):
    """The claimer's account went, or they withdrew the request's themes: released and
    offered again at once. `claimer_id` is None when the account is gone."""

    kind: ClassVar[str] = "help.handed_over"
    help_request_id: int
    town_insee: str
    title: str
    circle: str
    claimer_id: int | None
    confidential: bool = False


@dataclasses.dataclass(frozen=True)
class HelpNotSolved(DomainEvent):
    """The asker said the answers did not solve it: it waits again, offered anew to the
    circles it reached, and the ladder goes on."""

    kind: ClassVar[str] = "help.not_solved"
    help_request_id: int
    town_insee: str
    title: str
    circle: str
    confidential: bool = False

