"""Numbers from outside, read in one place: ASCII digits, within what the database holds.

Every schema's integer fields are `Integer` here, and every key read outside a schema (a path
segment, a form field, a signed token's part) goes through `ascii_int`. Unbounded, a number
reached the database and failed there, a 500: SQLite's driver refuses integers beyond 64 bits
(OverflowError), PostgreSQL an `integer` parameter beyond 32 bits (DataError). And
`str.isdigit` is no test of a number: it takes "²", which `int` refuses, and "٣" (Arabic-Indic
three), which `int` reads as 3.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import fields, validate

INTEGER_MAX = 2**31 - 1
"""PostgreSQL's `integer`: the columns of ids, counts, amounts and years."""

BIGINT_MAX = 2**63 - 1
"""PostgreSQL's `bigint` (and SQLite's integer): the ids of events and notifications."""

# A hundred digits are far beyond any column, and few enough to read: the range then refuses
# the number by name, where a longer one is no integer at all.
_NUMBER = re.compile(r"-?[0-9]{1,100}")


def ascii_int(text: str, maximum: int = INTEGER_MAX) -> int | None:
    """Return the number `text` spells in ASCII digits, if it is from 0 to `maximum`; else None.

    For keys that are not read by a schema, where "no such thing" is the answer to a wrong one.
    """
    if _NUMBER.fullmatch(text) is None or text.startswith("-"):
        return None
    number = int(text)
    return number if number <= maximum else None


class Integer(fields.Integer):
    """An integer from `minimum` to `maximum`: a JSON number, or ASCII digits in a query string
    or a form.

    The bounds default to what an `integer` column holds, from 0: every integer Maillage takes
    is an id, a count, an amount or a year; a field for a `bigint` column says so. The bounds
    are a `Range` validator, so that the OpenAPI document shows them and a number out of them
    is a 422 naming the field. A float is refused rather than truncated, a boolean too.
    """

    def __init__(self, *, minimum: int = 0, maximum: int = INTEGER_MAX, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)
        self.validators.insert(0, validate.Range(min=minimum, max=maximum))

    def _validated(self, value: Any) -> int:
        if isinstance(value, str):
            if _NUMBER.fullmatch(value) is None:
                raise self.make_error("invalid", input=value)
            return int(value)
        return super()._validated(value)
