"""Marshmallow schemas of initiatives: what the API and the forms accept and return."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load, pre_load, validate

from maillage.fields import Integer
from maillage.forms import QuerySchema
from maillage.initiatives.models import Status
from maillage.pagination import Cursor
from maillage.towns.schemas import INSEE_CODE

STATUSES = [status.value for status in Status]
SLUG = fields.String(validate=validate.Length(min=1, max=80))
URL = fields.Url(schemes={"http", "https"}, validate=validate.Length(max=500))


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


class ReplicationCreateSchema(Schema):
    town = fields.String(required=True, validate=INSEE_CODE)
    initiative_id = Integer(load_default=None, minimum=1)
    note = fields.String(load_default="", validate=validate.Length(max=1000))


class ReplicationSchema(Schema):
    id = Integer()
    original_id = Integer()
    town = fields.Nested(TownBriefSchema)
    initiative_id = Integer(allow_none=True)
    note = fields.String()
    created_at = fields.AwareDateTime()
