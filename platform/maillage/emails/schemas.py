"""Marshmallow schemas of email preferences and subscriptions, for the API and the forms."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, fields, pre_load, validate

from maillage.emails.models import CATEGORY_NAMES, Frequency, Mode
from maillage.i18n import LANGUAGES, UNKNOWN_LANGUAGE, visitor_locale
from maillage.towns.schemas import INSEE_CODE

FREQUENCY = validate.OneOf([frequency.value for frequency in Frequency])
MODE = validate.OneOf([mode.value for mode in Mode])
LOCALE = validate.OneOf(LANGUAGES, error=UNKNOWN_LANGUAGE)


def _mode_field(name: str) -> fields.String:
    return fields.String(validate=MODE, metadata={"description": f"The mode of {name}"})


ModesSchema = Schema.from_dict({name: _mode_field(name) for name in CATEGORY_NAMES},
                               name="ModesSchema")


class PreferencesSchema(Schema):
    """What `PUT` changes (only the fields given) and what `GET` shows (every category)."""

    frequency = fields.String(validate=FREQUENCY, metadata={
        "description": "How often digests come: daily or weekly (Monday), at 07:00 in Paris"})
    modes = fields.Nested(ModesSchema, metadata={
        "description": "Per category: immediate, digest or off. Categories: "
                       + ", ".join(CATEGORY_NAMES)})
    unsubscribed = fields.Boolean(dump_only=True, metadata={
        "description": "True after 'unsubscribe from everything', until preferences are set"})


# The page's form: the frequency and one choice per category, side by side.
PreferencesForm = Schema.from_dict(
    {"frequency": fields.String(required=True, validate=FREQUENCY),
     **{name: fields.String(required=True, validate=MODE) for name in CATEGORY_NAMES}},
    name="PreferencesForm")


class SubscriptionSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    themes = fields.List(fields.String(validate=validate.Length(min=1, max=80)),
                         load_default=list, validate=validate.Length(max=20),
                         metadata={"description": "Slugs of themes"})
    towns = fields.List(fields.String(validate=INSEE_CODE), load_default=list,
                        validate=validate.Length(max=50),
                        metadata={"description": "INSEE codes of towns"})
    frequency = fields.String(load_default=Frequency.WEEKLY.value, validate=FREQUENCY)
    locale = fields.String(load_default=visitor_locale, validate=LOCALE, metadata={
        "description": "fr or en, the language of the digest; by default the browser's "
                       "(Accept-Language), else French"})


class SubscriptionForm(SubscriptionSchema):
    """The page's form gives towns as INSEE codes in one field, separated by spaces or commas."""

    @pre_load
    def split_towns(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        if "towns" in data:
            data = {**data, "towns": [code for value in data["towns"]
                                      for code in re.split(r"[\s,;]+", value) if code]}
        return data


class SubscriptionRequestedSchema(Schema):
    status = fields.String(metadata={"description": "pending: a confirmation was mailed"})
    message = fields.String()
