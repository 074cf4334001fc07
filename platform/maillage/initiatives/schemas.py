"""Marshmallow schemas of initiatives: what the API and the forms accept and return."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate, validates

from maillage.attachments.schemas import FILES
from maillage.fields import Integer
from maillage.forms import QuerySchema
from maillage.initiatives.funding import schemes, siren_is_valid
from maillage.initiatives.models import Status
from maillage.pagination import Cursor
from maillage.towns.bands import BANDS
from maillage.towns.schemas import INSEE_CODE

STATUSES = [status.value for status in Status]
SLUG = fields.String(validate=validate.Length(min=1, max=80))
URL = fields.Url(schemes={"http", "https"}, validate=validate.Length(max=500))


class FundingLineSchema(Schema):
    scheme = fields.String(required=True, validate=validate.OneOf(
        list(schemes()), error="Unknown funding scheme; the schemes are: {choices}."))
    amount_eur = Integer(required=True, maximum=1_000_000_000)


class IndicatorSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    value = fields.Float(required=True, allow_nan=False)
    unit = fields.String(load_default="", validate=validate.Length(max=40))


class RecordInputSchema(Schema):
    """The replication record, every field optional; a field given replaces what was there
    (`funding` and `indicators` as whole lists), null empties it."""

    solution = fields.String(allow_none=True, validate=validate.Length(max=500))
    supplier_siren = fields.String(allow_none=True, metadata={
        "description": "The supplier's SIREN: nine digits whose Luhn key holds"})
    funding = fields.List(fields.Nested(FundingLineSchema), validate=validate.Length(max=8),
                          metadata={"description": "Schemes: " + ", ".join(schemes())})
    total_cost_eur = Integer(allow_none=True, maximum=1_000_000_000)
    duration_months = Integer(allow_none=True, maximum=600)
    results = fields.String(allow_none=True, validate=validate.Length(max=10_000))
    indicators = fields.List(fields.Nested(IndicatorSchema), validate=validate.Length(max=20))
    contact_id = Integer(allow_none=True, minimum=1, metadata={
        "description": "A member who agreed to be called: only themself may set it"})

    @validates("supplier_siren")
    def check_siren(self, value: str | None, **_kwargs: Any) -> None:
        if value is not None and not siren_is_valid(value):
            raise ValidationError("Not a SIREN: nine digits whose Luhn key holds.")

    @validates("funding")
    def check_schemes_once(self, value: list[dict[str, Any]], **_kwargs: Any) -> None:
        named = [line.get("scheme") for line in value]
        if len(named) != len(set(named)):
            raise ValidationError("Each funding scheme is given once.")


class InitiativeUpdateSchema(Schema):
    """The fields a verified member may change; all optional."""

    title = fields.String(validate=validate.Length(min=3, max=200))
    summary = fields.String(validate=validate.Length(min=1, max=500))
    body = fields.String(validate=validate.Length(min=1, max=50_000))
    themes = fields.List(SLUG, validate=validate.Length(min=1, max=5))
    status = fields.String(validate=validate.OneOf(STATUSES))
    started_on = fields.Date(allow_none=True)
    budget_eur = Integer(allow_none=True, maximum=1_000_000_000)
    partners = fields.List(fields.String(validate=validate.Length(min=1, max=120)),
                           validate=validate.Length(max=20))
    links = fields.List(URL, validate=validate.Length(max=10))
    record = fields.Nested(RecordInputSchema, metadata={"description": "The replication record"})


class InitiativeCreateSchema(InitiativeUpdateSchema):
    town = fields.String(required=True, validate=INSEE_CODE)
    title = fields.String(required=True, validate=validate.Length(min=3, max=200))
    summary = fields.String(required=True, validate=validate.Length(min=1, max=500))
    body = fields.String(required=True, validate=validate.Length(min=1, max=50_000))
    themes = fields.List(SLUG, required=True, validate=validate.Length(min=1, max=5))
    status = fields.String(load_default=Status.IDEA.value, validate=validate.OneOf(STATUSES))


class _OneItemALine(Schema):
    """A form's textarea gives partners and links one a line, where JSON gives a list."""

    @pre_load
    def split_lines(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        return {**data, **{name: [line.strip() for value in data[name]
                                  for line in value.splitlines() if line.strip()]
                           for name in ("partners", "links") if name in data}}


class InitiativeCreateForm(_OneItemALine, InitiativeCreateSchema):
    """The page's form to post an initiative."""


class InitiativeEditForm(_OneItemALine, InitiativeCreateSchema):
    """The page's form to edit: it shows the whole initiative, so what posting requires stays
    required, and an optional field left blank is emptied (a PATCH would keep it as it was)."""

    class Meta:
        exclude = ("town",)

    @post_load
    def empty_blank_fields(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        return {"started_on": None, "budget_eur": None, "partners": [], "links": [], **data}


class InitiativeQueryArgs(QuerySchema):
    q = fields.String(validate=validate.Length(min=1, max=200))
    theme = SLUG
    town = fields.String(validate=INSEE_CODE)
    department = fields.String(validate=validate.Length(min=2, max=3))
    region = fields.String(validate=validate.Length(min=2, max=3))
    status = fields.String(validate=validate.OneOf(STATUSES))
    population_min = Integer()
    population_max = Integer()
    population_band = fields.String(validate=validate.OneOf(list(BANDS)), metadata={
        "description": "A band of the figures (2500-25000, 5000-9999...)"})
    solution = fields.String(validate=validate.Length(min=1, max=200), metadata={
        "description": "Words of the record's solution or of its supplier's SIREN"})
    funding = fields.String(validate=validate.OneOf(list(schemes())),
                            metadata={"description": "A funding scheme of the record"})
    cost_per_inhabitant_min = fields.Float(validate=validate.Range(min=0, max=1_000_000),
                                           allow_nan=False)
    cost_per_inhabitant_max = fields.Float(validate=validate.Range(min=0, max=1_000_000),
                                           allow_nan=False)
    after = Cursor((int,), (float, int), data_key="cursor")
    limit = Integer(load_default=20, minimum=1, maximum=100)


class PersonSchema(Schema):
    id = Integer()
    display_name = fields.String()


class TownBriefSchema(Schema):
    insee = fields.String()
    name = fields.String()
    department = fields.String(attribute="department_code")
    population = Integer(allow_none=True)


class FundingSchema(Schema):
    scheme = fields.String()
    label = fields.Function(lambda line: schemes().get(line.scheme, line.scheme))
    amount_eur = Integer()


class RecordSchema(Schema):
    solution = fields.String(allow_none=True)
    supplier_siren = fields.String(allow_none=True)
    funding = fields.List(fields.Nested(FundingSchema))
    total_cost_eur = Integer(allow_none=True)
    cost_per_inhabitant = fields.Float(allow_none=True, metadata={
        "description": "Total cost over the town's official population, in euros"})
    duration_months = Integer(allow_none=True)
    results = fields.String(allow_none=True)
    indicators = fields.List(fields.Nested(IndicatorSchema))
    contact = fields.Nested(PersonSchema, allow_none=True)


class InitiativeSchema(Schema):
    id = Integer()
    town = fields.Nested(TownBriefSchema)
    author = fields.Nested(PersonSchema, allow_none=True)
    title = fields.String()
    summary = fields.String()
    body = fields.String()
    body_html = fields.String()
    themes = fields.Function(lambda initiative: [theme.slug for theme in initiative.themes])
    status = fields.Enum(Status, by_value=True)
    started_on = fields.Date(allow_none=True)
    budget_eur = Integer(allow_none=True)
    partners = fields.List(fields.String())
    links = fields.List(fields.String())
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    record = fields.Nested(RecordSchema, allow_none=True)
    files = FILES


class InitiativeHitSchema(InitiativeSchema):
    excerpt = fields.String(allow_none=True, metadata={
        "description": "With `q`: HTML with the matched words in <mark>"})


class InitiativePageSchema(Schema):
    items = fields.List(fields.Nested(InitiativeHitSchema))
    next_cursor = fields.String(allow_none=True)


class CommentCreateSchema(Schema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=10_000))


class CommentSchema(Schema):
    id = Integer()
    initiative_id = Integer()
    author = fields.Nested(PersonSchema, allow_none=True)
    body = fields.String()
    body_html = fields.String()
    created_at = fields.AwareDateTime()
    files = FILES


class ReplicationCreateSchema(Schema):
    town = fields.String(required=True, validate=INSEE_CODE)
    initiative_id = Integer(load_default=None, minimum=1)
    note = fields.String(load_default="", validate=validate.Length(max=1000))
    record = fields.Nested(RecordInputSchema, metadata={"description": "The replication record"})


class ReplicationUpdateSchema(Schema):
    note = fields.String(validate=validate.Length(max=1000))
    record = fields.Nested(RecordInputSchema, metadata={"description": "The replication record"})


class ReplicationSchema(Schema):
    id = Integer()
    original_id = Integer()
    town = fields.Nested(TownBriefSchema)
    initiative_id = Integer(allow_none=True)
    note = fields.String()
    created_at = fields.AwareDateTime()
    record = fields.Nested(RecordSchema, allow_none=True)
