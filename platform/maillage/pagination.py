"""Cursor pagination: a page ends with an opaque cursor naming the last row's sort key.

Keyset cursors neither repeat nor skip rows when others are inserted between two pages, which
offsets would.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from marshmallow import ValidationError, fields


def encode(key: Sequence[Any]) -> str:
    """Return the cursor for the sort key `key` of the last row of a page."""
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, arity: int | tuple[int, ...]) -> list[Any]:
    """Return the sort key in `cursor`, or raise a ValidationError."""
    arities = (arity,) if isinstance(arity, int) else arity
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise ValidationError("Not a cursor given by this API.") from None
    if not isinstance(key, list) or len(key) not in arities \
            or not all(isinstance(part, str | int | float) for part in key):
        raise ValidationError("Not a cursor given by this API.")
    return key


class Cursor(fields.String):
    """A query argument holding a cursor, loaded as the sort key it names."""

    def __init__(self, arity: int | tuple[int, ...], **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {"description": "`next_cursor` of the previous page"})
        super().__init__(**kwargs)
        self.arity = arity

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        return decode(super()._deserialize(value, attr, data, **kwargs), self.arity)
