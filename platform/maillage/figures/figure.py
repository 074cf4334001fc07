"""What a figure is: a table (`Figure`: columns and rows) that the API returns as JSON or CSV
and the page draws beside its chart."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from maillage.database import utcnow
from maillage.i18n import theme_name
from maillage.networks.queries import list_networks
from maillage.themes.queries import list_themes

# Kinds a reader compares by magnitude: aligned right, in the reader's numbers.
NUMBERS = frozenset({"count", "share", "euros", "hours"})


@dataclass(frozen=True)
class Column:
    """A column; `kind` tells how to show it: text, band, level, count, share (0 to 1), month,
    euros, hours, or slug: a network's or theme's slug, for programs (the API and CSV give it),
    which the page leaves out for the name column beside it."""

    key: str
    label: str
    kind: str = "count"


@dataclass(frozen=True)
class Figure:
    """A figure's numbers; `chart` names the columns a bar is labelled with and its value;
    `source` says where the numbers come from; `computed_at` is now: figures are computed at
    each request, from the data as it is."""

    name: str
    title: str
    description: str
    source: str
    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]
    chart: tuple[tuple[str, ...], str] = field(default=((), ""))
    computed_at: datetime = field(default_factory=utcnow)

    @property
    def shown_columns(self) -> tuple[Column, ...]:
        """The columns a reader is shown: names rather than slugs."""
        return tuple(column for column in self.columns if column.kind != "slug")


def share(part: int, whole: int) -> float | None:
    """`part` of `whole` as a fraction rounded to 4 places; None when there is no whole."""
    return round(part / whole, 4) if whole else None


def network_names() -> dict[str, str]:
    """Each network's name by its slug."""
    return {network.slug: network.name for network in list_networks()}


def theme_names() -> dict[str, str]:
    """Each theme's name in the reader's language (French outside a request) by its slug."""
    return {theme.slug: theme_name(theme) for theme in list_themes()}
