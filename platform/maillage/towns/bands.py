"""The population bands of towns, defined once for every figure and the tests' wording.

Bounds are inclusive, as in the official data's README: the small towns Maillage serves have
2,500 to 25,000 inhabitants. The fine scale splits that band where the law and the networks
commonly do (5,000 and 10,000).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa


@dataclass(frozen=True)
class Band:
    """Towns of `low` to `high` inhabitants, both included; None is no bound. Its name is
    written in the reader's language and numbers where it is shown (figures.charts)."""

    key: str
    low: int | None
    high: int | None

    def condition(self, population: Any) -> sa.ColumnElement[bool]:
        bounds = []
        if self.low is not None:
            bounds.append(population >= self.low)
        if self.high is not None:
            bounds.append(population <= self.high)
        return sa.and_(population.is_not(None), *bounds)


UNDER = Band("under-2500", None, 2_499)
SMALL = Band("2500-25000", 2_500, 25_000)
OVER = Band("over-25000", 25_001, None)
SCALES: dict[str, tuple[Band, ...]] = {
    "coarse": (UNDER, SMALL, OVER),
    "fine": (UNDER, Band("2500-4999", 2_500, 4_999),
             Band("5000-9999", 5_000, 9_999),
             Band("10000-25000", 10_000, 25_000), OVER),
}
UNKNOWN = Band("unknown", None, None)
BANDS = {band.key: band for scale in SCALES.values() for band in (*scale, UNKNOWN)}


def band_of(population: Any, scale: str = "coarse") -> sa.ColumnElement[str]:
    """The SQL expression naming the band of `population` on `scale`."""
    return sa.case(*((band.condition(population), band.key) for band in SCALES[scale]),
                   else_=UNKNOWN.key)


def band_key(population: int | None, scale: str = "coarse") -> str:
    """The band of `population` on `scale`, in Python: what `band_of` says in SQL."""
    for band in SCALES[scale]:
        if population is not None and (band.low is None or population >= band.low) \
                and (band.high is None or population <= band.high):
            return band.key
    return UNKNOWN.key


def ordered(keys: set[str], scale: str) -> list[str]:
    """The bands of `scale` in order, then `unknown` when some towns fall there."""
    return [band.key for band in SCALES[scale]] + ([UNKNOWN.key] if UNKNOWN.key in keys else [])
