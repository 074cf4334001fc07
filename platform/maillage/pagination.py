"""Cursor pagination: a page ends with an opaque cursor naming the last row's sort key.

Keyset cursors neither repeat nor skip rows when others are inserted between two pages, which
offsets would.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Sequence
from typing import Any

from marshmallow import ValidationError, fields

from maillage.fields import BIGINT_MAX, INTEGER_MAX


def encode(key: Sequence[Any]) -> str:
    """Return the cursor for the sort key `key` of the last row of a page."""
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


Shape = tuple[type, ...]
"""The kinds of a sort key's parts, in order: `int` (an id, or minus one), `float` (a rank),
`str` (a name or a code)."""

# Twice the longest key any listing gives (a town's folded name and its code), in base64.
MAX_LENGTH = 512


def decode(cursor: str, *shapes: Shape) -> list[Any]:
    """Return the sort key in `cursor`, if it has one of `shapes`, or raise a ValidationError.

    A cursor comes back from the client: its parts are compared with columns, so each must be
    of the column's kind and within what the database holds (a string where an id is, or an id
    beyond 32 bits, failed in the database, a 500).
    """
    invalid = ValidationError("Not a cursor given by this API.")
    if len(cursor) > MAX_LENGTH:
        raise invalid
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise invalid from None
    if not isinstance(key, list):
        raise invalid
    for shape in shapes:
        if len(key) == len(shape) and all(map(_fits, key, shape)):
            return [float(part) if kind is float else part
                    for part, kind in zip(key, shape, strict=True)]
    raise invalid


def _fits(part: Any, kind: type) -> bool:
    if isinstance(part, bool):
        return False
    if kind is int:
        return isinstance(part, int) and abs(part) <= INTEGER_MAX
    if kind is float:
        return (isinstance(part, int) and abs(part) <= BIGINT_MAX) \
            or (isinstance(part, float) and math.isfinite(part))
    return isinstance(part, kind)


class Cursor(fields.String):
    """A query argument holding a cursor, loaded as the sort key it names."""

    def __init__(self, *shapes: Shape, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {"description": "`next_cursor` of the previous page"})
        super().__init__(**kwargs)
        self.shapes = shapes

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        return decode(super()._deserialize(value, attr, data, **kwargs), *self.shapes)
