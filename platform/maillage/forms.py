"""Query strings and HTML forms, parsed by the same marshmallow schemas as the API's bodies.

A JSON body is strict: unknown fields are refused, so a typo never passes silently. Query
strings and forms are not: a blank field counts as absent and extra fields (the CSRF token,
the submit button) are ignored.
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load
from werkzeug.datastructures import MultiDict

from maillage.errors import Invalid


def _without_blanks(data: Any) -> dict[str, Any]:
    return {key: value for key, value in data.items()
            if not (isinstance(value, str) and not value.strip())}


class QuerySchema(Schema):
    """A schema for query arguments: blanks count as absent, unknown arguments are ignored."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def drop_blank_fields(self, data: Any, **_kwargs: Any) -> Any:
        return _without_blanks(data) if hasattr(data, "items") else data


def load_form(schema: Schema, form: MultiDict[str, str]) -> dict[str, Any]:
    """Load a submitted form with `schema`; list fields take every value of their name."""
    data: dict[str, Any] = {}
    for name, field in schema.fields.items():
        key = field.data_key or name
        if isinstance(field, fields.List):
            values = [value for value in form.getlist(key) if value.strip()]
            if values:
                data[key] = values
        elif key in form:
            data[key] = form[key]
    return schema.load(_without_blanks(data), unknown=EXCLUDE)


def field_errors(error: ValidationError | Invalid) -> dict[str, list[str]]:
    """Messages by field, for a page; marshmallow keys a list's by item, shown here by line."""
    if isinstance(error, Invalid):
        return error.errors
    return {name: [f"Ligne {index + 1} : {message}" for index, messages in sorted(problems.items())
                   for message in messages] if isinstance(problems, dict) else problems
            for name, problems in error.normalized_messages().items()}
