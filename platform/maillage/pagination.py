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

from marshmallow import ValidationError


def encode(key: Sequence[Any]) -> str:
    """Return the cursor for the sort key `key` of the last row of a page."""
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, arity: int) -> list[Any]:
    """Return the sort key in `cursor`, or raise a ValidationError naming the field."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError):
        raise ValidationError("Invalid cursor.", field_name="cursor") from None
    if not isinstance(key, list) or len(key) != arity:
        raise ValidationError("Invalid cursor.", field_name="cursor")
    return key
