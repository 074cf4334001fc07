"""Marshmallow schemas of figures: the query arguments, the JSON shape, and the CSV file."""

from __future__ import annotations

import csv
import io

from marshmallow import Schema, fields, validate

from maillage.fields import Integer
from maillage.figures.figure import Figure
from maillage.forms import QuerySchema
from maillage.towns.bands import SCALES


class FigureArgs(QuerySchema):
    """What narrows a figure; each figure takes some of them (see `GET /figures`)."""

    network = fields.String(validate=validate.Length(min=1, max=80),
                            metadata={"description": "A network's slug"})
    year = Integer(minimum=1900, maximum=2100)
    scale = fields.String(validate=validate.OneOf(list(SCALES)),
                          metadata={"description": "Population bands: coarse or fine"})
    theme = fields.String(validate=validate.Length(min=1, max=80),
                          metadata={"description": "A theme's slug"})
    by = fields.String(validate=validate.OneOf(["band", "department"]),
                       metadata={"description": "Reach by population band or department"})


class FigureQueryArgs(FigureArgs):
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class ColumnSchema(Schema):
    key = fields.String()
    label = fields.String()
    kind = fields.String()


class FigureSchema(Schema):
    name = fields.String()
    title = fields.String()
    description = fields.String()
    source = fields.String(metadata={"description": "Where the numbers come from"})
    computed_at = fields.AwareDateTime(
        metadata={"description": "When they were computed: at each request, from the data"})
    columns = fields.List(fields.Nested(ColumnSchema), metadata={
        "description": "A slug column (kind slug) is followed by the name it stands for"})
    rows = fields.List(fields.Dict(), metadata={"description": "One object a row, by column key"})


class FigureInfoSchema(Schema):
    name = fields.String()
    description = fields.String()
    arguments = fields.List(fields.String())


def figure_csv(figure: Figure) -> str:
    """The figure as CSV: a header of column keys, then a line a row (shares as fractions)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[column.key for column in figure.columns],
                            extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(figure.rows)
    return out.getvalue()
