"""Marshmallow schemas of accounts: sign-up, sign-in and password reset forms, the API's
shapes."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from maillage.accounts.models import Role, Scope
from maillage.fields import Integer
from maillage.i18n import LANGUAGES, UNKNOWN_LANGUAGE
from maillage.towns.schemas import INSEE_CODE

ROLES = [role.value for role in Role]
LANGUAGE = validate.OneOf(LANGUAGES, error=UNKNOWN_LANGUAGE)


def _email() -> fields.Email:
    return fields.Email(required=True, validate=validate.Length(max=254))


def _new_password() -> fields.String:
    """A password being chosen, at sign-up or after a reset: the same rules for both."""
    return fields.String(required=True, load_only=True,
                         validate=validate.Length(min=10, max=200,
                                                  error="Between 10 and 200 characters."))


class SignUpSchema(Schema):
    email = _email()
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    password = _new_password()
    town = fields.String(load_default=None, validate=INSEE_CODE)
    role = fields.String(load_default=None, validate=validate.OneOf(ROLES))

    @validates_schema
    def role_with_town(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("town") and not data.get("role"):
            raise ValidationError("Say what you do for the town.", field_name="role")


class SignInSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(required=True, load_only=True,
                             validate=validate.Length(min=1, max=200))


class ForgotPasswordSchema(Schema):
    email = _email()


class NewPasswordSchema(Schema):
    password = _new_password()


class ChangePasswordSchema(Schema):
    current_password = fields.String(required=True, load_only=True,
                                     validate=validate.Length(min=1, max=200))
    password = _new_password()


class TownRefSchema(Schema):
    insee = fields.String()
    name = fields.String()


class MembershipSchema(Schema):
    id = Integer()
    user_id = Integer()
    town = fields.Nested(TownRefSchema)
    role = fields.Enum(Role, by_value=True)
    verified = fields.Boolean()
    verified_at = fields.AwareDateTime(allow_none=True)
    verification_source = fields.String(allow_none=True)


class MeSchema(Schema):
    id = Integer()
    email = fields.String()
    email_confirmed = fields.Boolean(metadata={
        "description": "False until the link mailed at sign-up is followed: the account "
                       "then only reads"})
    display_name = fields.String()
    locale = fields.String(metadata={
        "description": "fr or en: the language of the member's pages and mail"})
    is_admin = fields.Boolean()
    is_moderator = fields.Boolean()
    memberships = fields.List(fields.Nested(MembershipSchema))
    expertise = fields.Function(lambda user: [theme.slug for theme in user.expertise])


class LanguageSchema(Schema):
    """The language a member chooses for their pages and their mail (`PATCH /me`, the
    settings page)."""

    locale = fields.String(required=True, validate=LANGUAGE, metadata={
        "description": "fr (French) or en (English)"})


class JoinTownSchema(Schema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class ExpertiseSchema(Schema):
    themes = fields.List(fields.String(validate=validate.Length(min=1, max=80)), required=True,
                         validate=validate.Length(max=50))


class NewTokenSchema(Schema):
    scope = fields.Enum(Scope, by_value=True, required=True)
    name = fields.String(load_default="", validate=validate.Length(max=120))


class TokenSchema(Schema):
    id = Integer()
    name = fields.String()
    scope = fields.Enum(Scope, by_value=True)
    created_at = fields.AwareDateTime()
    last_used_at = fields.AwareDateTime(allow_none=True)


class CreatedTokenSchema(Schema):
    token = fields.Nested(TokenSchema)
    secret = fields.String(metadata={"description": "Shown this once; only its hash is kept."})
