"""Request bodies: how large they may be, and the JSON parser every JSON body goes through.

The size is `MAX_CONTENT_LENGTH` (a setting): a request announcing a longer body is refused
(413) before anything runs, whether or not its view would read the body, and werkzeug stops a
body without a length once it has read that much. The JSON parser is the app's (`app.json`,
used by `request.get_json` and by the API's argument parser, `api.Parser`): besides what
`json.loads` refuses, it refuses nesting deeper than `MAX_DEPTH`. `json.loads` itself gave up
on "[" * 100000 with a RecursionError, a 500; a document some hundreds of levels deep parses,
and is no body any endpoint takes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Request, current_app, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import RequestEntityTooLarge

F = TypeVar("F", bound=Callable[..., Any])
MAX_DEPTH = 32
"""Arrays and objects inside one another; the API's deepest body has two."""


def init_app(app: Flask) -> None:
    """Parse JSON with `JSONProvider`, and refuse bodies too large before anything else."""
    app.json = JSONProvider(app)
    app.request_class = MaillageRequest
    app.before_request(_refuse_too_large)


def takes_files(view: F) -> F:
    """Mark a view whose form or body carries files: its requests may be larger by an item's
    files (`ATTACHMENT_MAX_ITEM_BYTES`). The limit is known once the URL is matched, before
    any hook reads the form (the CSRF check does)."""
    view.takes_files = True  # type: ignore[attr-defined]
    return view


class MaillageRequest(Request):
    """Flask's request, whose body limit is larger for a view that takes files."""

    @property
    def max_content_length(self) -> int | None:  # type: ignore[override]
        limit = super().max_content_length
        view = current_app.view_functions.get(self.endpoint or "")
        if limit is not None and getattr(view, "takes_files", False):
            return limit + current_app.config["ATTACHMENT_MAX_ITEM_BYTES"]
        return limit


def _refuse_too_large() -> None:
    limit = request.max_content_length
    if limit is not None and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()


class TooDeep(json.JSONDecodeError):
    """A JSON document nested deeper than `MAX_DEPTH`: a decoding error like any other, so
    that Flask and webargs answer it as they answer broken JSON (400)."""

    def __init__(self, document: str | bytes) -> None:
        text = document if isinstance(document, str) else document.decode("utf-8", "replace")
        super().__init__(f"Nested deeper than {MAX_DEPTH} levels.", text, 0)


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, refusing documents nested deeper than `MAX_DEPTH`."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise TooDeep(s) from None
        if _deeper_than(value, MAX_DEPTH):
            raise TooDeep(s)
        return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Tell whether `value` nests arrays and objects more than `limit` deep; without
    recursion, which is what the limit is for."""
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, dict | list))
    return False
