"""Marshmallow schemas of themes."""

from __future__ import annotations

from marshmallow import Schema, fields


class ThemeSchema(Schema):
    slug = fields.String()
    name_fr = fields.String()
    name_en = fields.String()
