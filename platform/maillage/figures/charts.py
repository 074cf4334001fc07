"""Bar charts of figures, drawn on the server as SVG: no script, readable by screen readers
(a title and a description), and the same numbers in the table beside each chart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from maillage.figures.bands import LABELS
from maillage.figures.queries import Figure

ROW = 24
LABEL_WIDTH = 300
BAR_WIDTH = 340
LEVELS = {"any": "au moins un niveau", **{str(n): f"{n} arobase{'s' if n > 1 else ''}"
                                          for n in range(1, 6)}}


def formatted(value: Any, kind: str) -> str:
    """A value as French writes it: "26 308 887", "12,5 %", "3,5 h"; a band or level by name."""
    if value is None:
        return "–"
    if kind == "share":
        return f"{value * 100:.1f}".replace(".", ",") + "\u00a0%"
    if kind == "count":
        return f"{value:,}".replace(",", "\u202f")
    if kind == "hours":
        return f"{value:.1f}".replace(".", ",") + "\u00a0h"
    if kind == "band":
        return LABELS.get(value, value)
    return LEVELS.get(value, str(value)) if kind == "level" else str(value)


@dataclass(frozen=True)
class Bar:
    label: str
    text: str
    y: int
    width: float


@dataclass(frozen=True)
class BarChart:
    """Where each bar goes, in a viewBox `width` wide and `height` high."""

    title: str
    description: str
    bars: list[Bar]
    height: int
    width: int = LABEL_WIDTH + BAR_WIDTH + 80
    label_width: int = LABEL_WIDTH


def bar_chart(figure: Figure) -> BarChart:
    """One horizontal bar a row of `figure`: shares against 100 %, counts against the largest."""
    label_keys, value_key = figure.chart
    kinds = {column.key: column.kind for column in figure.columns}
    values = [row[value_key] or 0 for row in figure.rows]
    scale = 1 if kinds[value_key] == "share" else max(values, default=0) or 1
    bars = [Bar(" · ".join(formatted(row[key], kinds[key]) for key in label_keys),
                formatted(row[value_key], kinds[value_key]), index * ROW,
                round(BAR_WIDTH * value / scale, 1))
            for index, (row, value) in enumerate(zip(figure.rows, values, strict=True))]
    largest = max(figure.rows, key=lambda row: row[value_key] or 0, default=None)
    summary = (f" La plus grande valeur : {formatted(largest[value_key], kinds[value_key])} "
               f"({' · '.join(formatted(largest[key], kinds[key]) for key in label_keys)})."
               if largest else " Aucune donnée.")
    return BarChart(figure.title, figure.description + summary, bars, max(len(bars), 1) * ROW)
