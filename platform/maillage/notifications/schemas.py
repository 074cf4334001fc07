"""Marshmallow schemas of notifications."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from maillage.fields import BIGINT_MAX, Integer
from maillage.forms import QuerySchema
from maillage.notifications.queries import UNREAD_CAP


class NotificationQueryArgs(QuerySchema):
    after = Integer(maximum=BIGINT_MAX, metadata={
        "description": "The last id the client has seen: only later ones are listed"})
    limit = Integer(load_default=50, minimum=1, maximum=200)


class ActorSchema(Schema):
    display_name = fields.String(allow_none=True)


class NotificationSchema(Schema):
    id = Integer(maximum=BIGINT_MAX)
    kind = fields.String()
    text = fields.String(metadata={"description": "What happened, in the reader's language"})
    reason = fields.String(metadata={"description": "theme, town, initiative, author, member"})
    reason_ref = fields.String(metadata={"description": "The slug, INSEE code or id followed"})
    reason_text = fields.String(metadata={"description": "Why the reader got it"})
    link = fields.String()
    actor = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    read = fields.Boolean()


class NotificationListSchema(Schema):
    items = fields.List(fields.Nested(NotificationSchema))
    last_id = Integer(allow_none=True, maximum=BIGINT_MAX, metadata={
        "description": "Pass it as `after` to get only what comes next"})


class UnreadCountSchema(Schema):
    count = Integer()


class UnreadSchema(Schema):
    count = Integer(metadata={"description": f"Unread notifications, counted up to {UNREAD_CAP}"})
    capped = fields.Boolean(metadata={
        "description": "The count reached its cap: there are at least `count` unread"})


class MarkReadSchema(Schema):
    ids = fields.List(Integer(minimum=1, maximum=BIGINT_MAX),
                      validate=validate.Length(min=1, max=500))
    up_to = Integer(minimum=1, maximum=BIGINT_MAX)

    @validates_schema
    def one_of_them(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if ("ids" in data) == ("up_to" in data):
            raise ValidationError("Give either `ids` or `up_to`.", field_name="ids")
