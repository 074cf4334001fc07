"""The funding schemes a replication record names, carried in the repository
(`data/funding.json`), and the SIREN check of a supplier."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

from stdnum.fr import siren as siren_number


@cache
def schemes() -> dict[str, str]:
    """The funding schemes by key, with their French label, in the file's order."""
    text = files("maillage.initiatives").joinpath("data/funding.json").read_text("utf-8")
    return {scheme["key"]: scheme["label"] for scheme in json.loads(text)}


def siren_is_valid(siren: str) -> bool:
    """Whether `siren` is nine ASCII digits whose Luhn key holds, as INSEE defines it
    (python-stdnum's check). Written otherwise (spaces, dots) it is refused, not read: the
    record keeps what it is given."""
    return len(siren) == 9 and siren.isascii() and siren.isdigit() and siren_number.is_valid(siren)
