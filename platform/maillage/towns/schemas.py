"""Marshmallow schemas of towns: the API's shapes and the validation of imported rows."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from maillage.fields import Integer
from maillage.forms import QuerySchema
from maillage.pagination import Cursor

INSEE_CODE = validate.Regexp(r"^(?:[0-9]{2}|2A|2B)[0-9]{3}$", error="Not an INSEE code.")


class CommuneRow(Schema):
    """One commune of the official data (fields named as the data names them)."""

    class Meta:
        unknown = EXCLUDE

    code = fields.String(required=True, validate=INSEE_CODE)
    nom = fields.String(required=True, validate=validate.Length(min=1, max=120))
    zone = fields.String(required=True, validate=validate.OneOf(["metro", "drom", "com"]))
    departement = fields.String(required=True, validate=validate.Length(min=2, max=3))
    region = fields.String(required=True, validate=validate.Length(min=2, max=3))
    population = Integer(load_default=None)
    codesPostaux = fields.List(
        fields.String(validate=validate.Regexp(r"^[0-9]{5}$", error="Not a postal code.")),
        load_default=list,
    )
    siren = fields.String(load_default=None,
                          validate=validate.Regexp(r"^[0-9]{9}$", error="Not a SIREN."))


class AreaSchema(Schema):
    code = fields.String()
    name = fields.String()


class TownSchema(Schema):
    insee = fields.String()
    name = fields.String()
    zone = fields.String()
    population = Integer(allow_none=True)
    siren = fields.String(allow_none=True)
    postal_codes = fields.Function(lambda town: [p.code for p in town.postal_codes])
    department = fields.Nested(AreaSchema)
    region = fields.Nested(AreaSchema)


class NetworkRefSchema(Schema):
    slug = fields.String(attribute="network.slug")
    name = fields.String(attribute="network.name")
    since_year = Integer(allow_none=True)


class LabelAwardSchema(Schema):
    year = Integer()
    level = Integer()


class TownDetailSchema(TownSchema):
    networks = fields.List(fields.Nested(NetworkRefSchema))
    label_awards = fields.List(fields.Nested(LabelAwardSchema))


class TownQueryArgs(QuerySchema):
    q = fields.String(validate=validate.Length(min=1, max=120),
                      metadata={"description": "Name, INSEE code or postal code"})
    department = fields.String(validate=validate.Length(min=2, max=3))
    region = fields.String(validate=validate.Length(min=2, max=3))
    after = Cursor((str, str), data_key="cursor")
    limit = Integer(load_default=20, minimum=1, maximum=100)


class TownPageSchema(Schema):
    items = fields.List(fields.Nested(TownSchema))
    next_cursor = fields.String(allow_none=True)
