"""The events of initiatives: published, updated, their status changed, commented, replicated."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from maillage.events import DomainEvent


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
