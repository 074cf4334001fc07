"""What the map is drawn with: the outlines of the departments of metropolitan France, from
`data/departements.json` (see data/LICENCE.md: CC BY 4.0, made by data/simplify.py), and the
classes of numbers that shade them, the same for the three measures."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

OUTLINES = Path(__file__).parent / "data" / "departements.json"
# The lowest number of each class after the first (nothing): a class holds its bound up to
# the next one's, the last one everything above.
BOUNDS = (1, 3, 6, 11, 26)


@dataclass(frozen=True)
class Inset:
    """Departments too small to point at, drawn again larger in `frame` (x, y, width,
    height), moved there by `transform`."""

    codes: tuple[str, ...]
    frame: tuple[int, int, int, int]
    transform: str


@dataclass(frozen=True)
class Drawing:
    """The view box, each department's outline (an SVG path) by code, and the inset."""

    view_box: str
    shapes: dict[str, str]
    inset: Inset


@cache
def drawing() -> Drawing:
    """The outlines, read once: the overseas departments are not drawn, only listed."""
    data = json.loads(OUTLINES.read_text(encoding="utf-8"))
    inset = data["inset"]
    return Drawing(data["viewBox"],
                   dict(sorted(data["departments"].items())),
                   Inset(tuple(inset["codes"]), tuple(inset["frame"]), inset["transform"]))


def shade(count: int) -> int:
    """The class of `count`: 0 for nothing, up to `len(BOUNDS)`."""
    return sum(count >= bound for bound in BOUNDS)


def classes() -> list[tuple[int, int, int | None]]:
    """The legend: each class with its lowest and highest number, None for the last."""
    lows = (0, *BOUNDS)
    return [(index, low, lows[index + 1] - 1 if index + 1 < len(lows) else None)
            for index, low in enumerate(lows)]
