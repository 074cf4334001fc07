"""Bar charts of figures, drawn on the server as SVG: no script, readable by screen readers
(a title and a description), and the same numbers in the table beside each chart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import format_currency, format_decimal, gettext, ngettext

from maillage.fields import ascii_int
from maillage.figures.figure import Figure
from maillage.i18n import hours, percent
from maillage.towns.bands import BANDS, UNKNOWN

ROW = 24
LABEL_WIDTH = 300
BAR_WIDTH = 340


def band_name(key: str) -> str:
    """A population band in words and the reader's numbers: "2 500 à 4 999", "2,500 to 4,999"."""
    band = BANDS.get(key)
    if band is None:
        return key
    if band is UNKNOWN:
        return gettext("population inconnue")
    if band.low is None:
        return gettext("moins de %(count)s", count=format_decimal(band.high + 1))
    if band.high is None:
        return gettext("plus de %(count)s", count=format_decimal(band.low - 1))
    return gettext("%(low)s à %(high)s", low=format_decimal(band.low),
                   high=format_decimal(band.high))


def level_name(level: str) -> str:
    """A level of the label in words: "3 arobases", or "au moins un niveau" for `any`."""
    if level == "any":
        return gettext("au moins un niveau")
    number = ascii_int(level)
    if number is not None:
        return ngettext("%(num)d arobase", "%(num)d arobases", number)
    return level


def formatted(value: Any, kind: str) -> str:
    """A value as the reader writes it: "26 308 887", "12,5 %", "3,5 h" in French,
    "26,308,887", "12.5%", "3.5 hr" in English; a band or level by name."""
    if value is None:
        return "–"
    if kind == "share":
        return percent(value)
    if kind == "count":
        return format_decimal(value)
    if kind == "euros":
        return format_currency(value, "EUR")
    if kind == "hours":
        return hours(value)
    if kind == "band":
        return band_name(value)
    return level_name(value) if kind == "level" else str(value)


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
    summary = (gettext("La plus grande valeur : %(value)s (%(label)s).",
                       value=formatted(largest[value_key], kinds[value_key]),
                       label=" · ".join(formatted(largest[key], kinds[key]) for key in label_keys))
               if largest else gettext("Aucune donnée."))
    return BarChart(figure.title, f"{figure.description} {summary}", bars,
                    max(len(bars), 1) * ROW)
