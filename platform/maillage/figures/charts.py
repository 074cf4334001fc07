"""Bar charts of figures, drawn on the server as SVG: no script, readable by screen readers
(a title and a description), and the same numbers in the table beside each chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import format_currency, format_date, format_decimal, gettext, ngettext

from maillage.fields import ascii_int
from maillage.figures.figure import NUMBERS, Figure
from maillage.i18n import hours, percent
from maillage.towns.bands import BANDS, UNKNOWN

# The chart's geometry, in the units of its viewBox, drawn at 1:1 where there is room and
# scaled down on a phone: a row is its label on a line, then its bar and value, the label
# above the bar getting the whole width; rows of a network (or month) come under its name
# (a heading), so that the label says only the rest.
WIDTH = 360
TOP = 28
HEADING = 28
ROW = 44
BAR_WIDTH = 270
# What a line of 15 px text holds in the viewBox's width.
LABEL_CHARACTERS = 40


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


def month_name(month: str) -> str:
    """A month "2025-03" in words: "mars 2025", "March 2025"."""
    year, number = month.split("-")
    return format_date(date(int(year), int(number), 1), "LLLL y")


def formatted(value: Any, kind: str) -> str:
    """A value as the reader writes it: "26 308 887", "12,5 %", "3,5 h" in French,
    "26,308,887", "12.5%", "3.5 hr" in English; a band, level or month by name."""
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
    if kind == "month":
        return month_name(value)
    return level_name(value) if kind == "level" else str(value)


def _fitted(text: str) -> str:
    """`text` cut to what a line holds; the table beside gives it whole."""
    if len(text) <= LABEL_CHARACTERS:
        return text
    return text[:LABEL_CHARACTERS - 1].rstrip() + "…"


def cell_class(kind: str) -> str:
    """How a table sets a column of `kind`: numbers aligned right, bands, levels and months on
    one line, names and other text wrapped between words."""
    if kind in NUMBERS:
        return "number"
    return "unbroken" if kind in {"band", "level", "month"} else "text"


@dataclass(frozen=True)
class Bar:
    label: str
    text: str
    y: int
    width: float


@dataclass(frozen=True)
class Heading:
    text: str
    y: int


@dataclass(frozen=True)
class BarChart:
    """Where each heading and bar goes, in a viewBox `width` wide and `height` high, under
    the name of what the bars measure."""

    title: str
    description: str
    measure: str
    headings: list[Heading]
    bars: list[Bar]
    height: int
    width: int = WIDTH
    bar_width: int = BAR_WIDTH


def bar_chart(figure: Figure) -> BarChart:
    """One horizontal bar a row of `figure`: shares against 100 %, counts against the largest.
    With two label columns, the rows of each value of the first come under it as a heading."""
    label_keys, value_key = figure.chart
    columns = {column.key: column for column in figure.columns}
    values = [row[value_key] or 0 for row in figure.rows]
    scale = 1 if columns[value_key].kind == "share" else max(values, default=0) or 1

    def words(row: dict[str, Any], keys: tuple[str, ...]) -> str:
        return " · ".join(formatted(row[key], columns[key].kind) for key in keys)

    grouped, rest = (label_keys[:1], label_keys[1:]) if len(label_keys) > 1 else ((), label_keys)
    headings, bars, y, group = [], [], TOP, None
    for row, value in zip(figure.rows, values, strict=True):
        if grouped and words(row, grouped) != group:
            group = words(row, grouped)
            headings.append(Heading(_fitted(group), y))
            y += HEADING
        bars.append(Bar(_fitted(words(row, rest)), formatted(row[value_key],
                                                             columns[value_key].kind),
                        y, round(BAR_WIDTH * value / scale, 1)))
        y += ROW
    largest = max(figure.rows, key=lambda row: row[value_key] or 0, default=None)
    summary = (gettext("La plus grande valeur : %(value)s (%(label)s).",
                       value=formatted(largest[value_key], columns[value_key].kind),
                       label=words(largest, label_keys))
               if largest else gettext("Aucune donnée."))
    return BarChart(figure.title, f"{figure.description} {summary}", columns[value_key].label,
                    headings, bars, y if bars else TOP + ROW)
