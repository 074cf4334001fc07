"""Marshmallow schemas of personal data: the export's shape, the deletion's confirmation."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class ExportSchema(Schema):
    exported_at = fields.String(metadata={"description": "When the export was made (UTC)."})
    account = fields.Dict(metadata={"description": "The account's row, without its password."})
    tables = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.List(fields.Dict())),
        metadata={"description": "Per table, per column pointing at the person, holding their "
                                 "address, or pointing at a row holding it: the rows."},
    )


class DeleteAccountSchema(Schema):
    """The password confirms; an account without one (provider sign-in) repeats its address."""

    password = fields.String(load_default=None, load_only=True,
                             validate=validate.Length(min=1, max=200))
    email = fields.String(load_default=None, validate=validate.Length(min=1, max=254))
    files = fields.Boolean(load_default=False, metadata={
        "description": "Delete the files the account attached too; by default they stay with "
                       "their initiative or request, like what the account wrote."})
