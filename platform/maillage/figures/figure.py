"""What a figure is: a table (`Figure`: columns and rows) that the API returns as JSON or CSV
and the page draws beside its chart."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Column:
    """A column; `kind` tells how to show it: text, band, level, count, share (0 to 1), month,
    euros."""

    key: str
    label: str
    kind: str = "count"


@dataclass(frozen=True)
class Figure:
    """A figure's numbers; `chart` names the columns a bar is labelled with and its value."""

    name: str
    title: str
    description: str
    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]
    chart: tuple[tuple[str, ...], str] = field(default=((), ""))


def share(part: int, whole: int) -> float | None:
    """`part` of `whole` as a fraction rounded to 4 places; None when there is no whole."""
    return round(part / whole, 4) if whole else None
