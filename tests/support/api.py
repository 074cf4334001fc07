"""Calling the API as a client would."""

from __future__ import annotations


def bearer(secret: str) -> dict[str, str]:
    """The headers of an API call made with the personal token `secret`."""
    return {"Authorization": f"Bearer {secret}"}
