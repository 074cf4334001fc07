"""Marshmallow schemas of OpenID Connect sign-in: the userinfo read, the linking form."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate


class UserinfoSchema(Schema):
    """The claims Maillage reads; the organisation claim, whose name is a setting, aside."""

    class Meta:
        unknown = EXCLUDE

    sub = fields.String(required=True, validate=validate.Length(min=1, max=255))
    email = fields.Email(required=True, validate=validate.Length(max=254))
    email_verified = fields.Boolean(load_default=False)
    given_name = fields.String(load_default="", validate=validate.Length(max=60))
    # ProConnect says usual_name, most providers family_name.
    usual_name = fields.String(load_default="", validate=validate.Length(max=60))
    family_name = fields.String(load_default="", validate=validate.Length(max=60))


class LinkSchema(Schema):
    password = fields.String(required=True, load_only=True,
                             validate=validate.Length(min=1, max=200))
