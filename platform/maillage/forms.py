"""HTML forms parsed with marshmallow, so that pages and the API validate alike."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, pre_load


class FormSchema(Schema):
    """A schema for a submitted form: blank fields count as absent, extra fields are ignored."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def drop_blank_fields(self, data: Any, **_kwargs: Any) -> Any:
        if hasattr(data, "items"):
            return {key: value for key, value in data.items()
                    if not (isinstance(value, str) and not value.strip())}
        return data
