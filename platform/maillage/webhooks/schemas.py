"""Marshmallow schemas of webhooks: what an admin registers, what the API shows."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from maillage.fields import Integer
from maillage.webhooks.models import KINDS


class WebhookCreateSchema(Schema):
    url = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                        metadata={"description": "https URL resolving to public addresses"})
    kinds = fields.List(
        fields.String(validate=validate.OneOf(KINDS, error="Not an event kind of webhooks: "
                                              "one of {choices}.")),
        required=True, validate=validate.Length(min=1, max=len(KINDS)),
        metadata={"description": "The event kinds wanted"})


class WebhookSchema(Schema):
    id = Integer()
    network = fields.String(attribute="network.slug")
    url = fields.String()
    kinds = fields.List(fields.String())
    created_at = fields.DateTime()
    enabled = fields.Function(lambda hook: hook.disabled_at is None)
    failures = Integer(metadata={"description": "Failed tries in a row"})
    disabled_at = fields.DateTime(allow_none=True)
    disabled_reason = fields.String(allow_none=True)


class WebhookCreatedSchema(WebhookSchema):
    secret = fields.String(metadata={"description": "Shown this once: signs the deliveries"})


class DeliverySchema(Schema):
    id = Integer()
    event_id = Integer()
    kind = fields.String()
    created_at = fields.DateTime()
    attempts = Integer()
    last_status = Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)
    failed_at = fields.DateTime(allow_none=True)
