"""The map's query arguments."""

from __future__ import annotations

from marshmallow import fields, validate

from maillage.forms import QuerySchema
from maillage.map.queries import MEASURES


class MapArgs(QuerySchema):
    measure = fields.String(load_default=MEASURES[0], validate=validate.OneOf(MEASURES),
                            metadata={"description": "What shades the departments"})
