"""What a consumer of an event gives back: who was notified, and which public rooms to tell."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Fanout:
    """How many notifications this run inserted, and the activity message for public rooms."""

    notified: int = 0
    rooms: list[str] = field(default_factory=list)
    activity: dict[str, Any] | None = None
