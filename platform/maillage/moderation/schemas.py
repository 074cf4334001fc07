"""Marshmallow schemas of moderation: reports, actions and the audit log."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from maillage.fields import Integer
from maillage.moderation.queries import TARGETS


class ReportCreateSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(list(TARGETS)))
    target_id = Integer(required=True, minimum=1)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class PersonRefSchema(Schema):
    id = Integer()
    display_name = fields.String()


class ReportSchema(Schema):
    id = Integer()
    kind = fields.String(attribute="target_kind")
    target_id = Integer()
    reason = fields.String()
    reporter = fields.Nested(PersonRefSchema, allow_none=True)
    created_at = fields.AwareDateTime()
    resolved_at = fields.AwareDateTime(allow_none=True)


class ModerationActionSchema(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=1000))


class AuditEntrySchema(Schema):
    id = Integer()
    action = fields.String()
    kind = fields.String(attribute="target_kind")
    target_id = Integer()
    note = fields.String()
    actor = fields.Nested(PersonRefSchema, allow_none=True)
    created_at = fields.AwareDateTime()
