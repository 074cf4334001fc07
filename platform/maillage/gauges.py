"""The gauges of /metrics that features feed: each declares a function, read at every scrape.

A feature adds one with a decorated function in its own package, reading its own tables:

    @gauges.gauge("maillage_mail_failed", "Mail given up for good, kept in the outbox.")
    def failed_mail() -> float:
        return session.scalar(sa.select(sa.func.count()).where(...))

and its module is listed in `maillage.features.GAUGES`, so that the registry is whole in
every web process. `maillage.health.metrics` asks each function once per scrape, from the
web process that answers it: a number read from the database must not be added up over the
processes, as their request counters are. A function may return a mapping from a label's
value to a number (with `label` naming it) for a family of gauges.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from maillage.database import utcnow

Reading = float | Mapping[str, float]


@dataclass(frozen=True)
class Gauge:
    """A gauge as /metrics shows it: its name, its help, and the function that reads it."""

    name: str
    documentation: str
    read: Callable[[], Reading]
    label: str | None = None


_GAUGES: dict[str, Gauge] = {}


def gauge(name: str, documentation: str, *,
          label: str | None = None) -> Callable[[Callable[[], Reading]], Callable[[], Reading]]:
    """Declare the decorated function as the reading of the gauge `name`."""
    def register(read: Callable[[], Reading]) -> Callable[[], Reading]:
        known = _GAUGES.get(name)
        if known is not None and known.read.__qualname__ != read.__qualname__:
            raise TypeError(f"{read.__qualname__} and {known.read.__qualname__} both read "
                            f"the gauge {name!r}")
        _GAUGES[name] = Gauge(name, documentation, read, label)
        return read

    return register


def declared() -> list[Gauge]:
    """Every gauge declared so far, by name."""
    return [_GAUGES[name] for name in sorted(_GAUGES)]


def age(since: datetime | None) -> float:
    """Seconds since `since`, for the gauges of the oldest thing waiting: 0 when none waits."""
    return max((utcnow() - since).total_seconds(), 0.0) if since is not None else 0.0
