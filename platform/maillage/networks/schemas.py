"""Marshmallow schemas of networks: imported CSV rows, board seats, the API's shapes."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, pre_load, validate

from maillage.fields import Integer
from maillage.initiatives.schemas import TownBriefSchema

TOWN = fields.String(
    required=True, validate=validate.Regexp(
        r"^(?:(?:[0-9]{2}|2A|2B)[0-9]{3}|[0-9]{9})$",
        error="Not an INSEE code (5 characters) or a SIREN (9 digits)."),
    metadata={"description": "The town's INSEE code or SIREN"})
YEARS = {"minimum": 1900, "maximum": 2100}

# The names spreadsheets of networks give these columns, folded to lower case.
_ALIASES = {"insee": "town", "code_insee": "town", "code insee": "town", "siren": "town",
            "commune": "town", "code": "town", "since": "year", "since_year": "year",
            "annee": "year", "année": "year", "niveau": "level"}
TOWN_COLUMNS = frozenset(name for name, column in _ALIASES.items() if column == "town") | {"town"}


class CsvRow(Schema):
    """A row of an imported CSV file: headers in any case, the usual French names accepted,
    blank cells absent, other columns ignored."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def name_columns(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        named: dict[str, Any] = {}
        for key, value in data.items():
            if key is None or value is None or not str(value).strip():
                continue
            name = key.strip().lower()
            named.setdefault(_ALIASES.get(name, name), str(value).strip())
        town = named.get("town")
        if town and re.fullmatch(r"[0-9]{4}", town):
            # A spreadsheet read the INSEE code of a department 01 to 09 as a number.
            named["town"] = town.zfill(5)
        return named


class MemberRow(CsvRow):
    town = TOWN
    year = Integer(load_default=None, **YEARS,
                   metadata={"description": "The year the town joined"})


class LabelRow(CsvRow):
    town = TOWN
    year = Integer(required=True, **YEARS)
    level = Integer(required=True, minimum=1, maximum=5)


class NetworkSchema(Schema):
    slug = fields.String()
    name = fields.String()
    description = fields.String()


class BoardSeatCreateSchema(Schema):
    town = TOWN
    role = fields.String(required=True, validate=validate.Length(min=1, max=80),
                         metadata={"description": "président, trésorière, administrateur..."})
    person_name = fields.String(load_default=None, validate=validate.Length(min=1, max=200))


class BoardSeatSchema(Schema):
    id = Integer()
    network = fields.String(attribute="network.slug")
    town = fields.Nested(TownBriefSchema)
    role = fields.String()
    person_name = fields.String(allow_none=True)
