"""What the pages and the API share about a request: is it for the API, does it write, and
where may it be sent next. A leaf: it imports nothing of Maillage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import current_app, request

F = TypeVar("F", bound=Callable[..., Any])
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_api_request() -> bool:
    """Tell whether the current request is for the JSON API."""
    return request.path == "/api" or request.path.startswith("/api/")


def safe_next(target: str | None, default: str = "/") -> str:
    """Return `target` if it is a path on this site, else `default`: no open redirect."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return default
    return target


def own_authorization(view: F) -> F:
    """Mark a view that reads the Authorization header itself (/metrics and its token): the
    personal tokens' check leaves its requests alone."""
    view.own_authorization = True  # type: ignore[attr-defined]
    return view


def has_own_authorization() -> bool:
    """Tell whether the current request's view reads the Authorization header itself."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "own_authorization", False))
