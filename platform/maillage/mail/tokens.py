"""Signed tokens for links in mail: they act without a sign-in, so they are signed.

A token names a purpose (its salt), so a confirmation token never unsubscribes anyone and an
unsubscribe token never confirms.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer

from maillage.errors import NotFound


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"maillage.{purpose}")


def sign(purpose: str, data: Any) -> str:
    """Return a URL-safe token carrying `data` for `purpose`."""
    return _serializer(purpose).dumps(data)


def load(purpose: str, token: str, max_age: int | None = None) -> Any:
    """Return the data of a token of `purpose`; a tampered, foreign or expired one is refused."""
    try:
        return _serializer(purpose).loads(token, max_age=max_age)
    except BadData as error:
        raise NotFound("Ce lien n'est pas valide ou a expiré.") from error
