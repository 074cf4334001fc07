"""The events of help: requested, answered, accepted, closed, escalated.

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
    """Nobody answered within the delay: the request reaches the next circle, once."""

    kind: ClassVar[str] = "help.escalated"
    help_request_id: int
    town_insee: str
    themes: list[str]
    title: str
    circle: str
    previous_circle: str
    confidential: bool = False
