"""The funding schemes a replication record names, carried in the repository
(`data/funding.json`), and the SIREN check of a supplier."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files


@cache
def schemes() -> dict[str, str]:
    """The funding schemes by key, with their French label, in the file's order."""
    text = files("maillage.initiatives").joinpath("data/funding.json").read_text("utf-8")
    return {scheme["key"]: scheme["label"] for scheme in json.loads(text)}


def siren_is_valid(siren: str) -> bool:
    """Whether `siren` is nine ASCII digits whose Luhn key holds, as INSEE defines it.

    Hand-written: the check is six lines, where python-stdnum would be a dependency for one
    function. La Poste's SIREN (356000000), the one known exception, passes its own rule.
    """
    if len(siren) != 9 or not siren.isascii() or not siren.isdigit():
        return False
    if siren == "356000000":
        return True
    total = 0
    for position, digit in enumerate(int(c) for c in reversed(siren)):
        doubled = digit * 2 if position % 2 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0
