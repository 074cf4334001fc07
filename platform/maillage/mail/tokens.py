"""Signed tokens for links in mail: they act without a sign-in, so they are signed.

A token is its parts joined by dots and an HMAC of them (itsdangerous' signers, no JSON nor
compression: a digest carries a few of them and the run signs thousands a second). It names
a purpose (the signer's salt), so a confirmation token never unsubscribes anyone and an
unsubscribe token never confirms.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadData, Signer, TimestampSigner

from maillage.errors import NotFound


def _signer(purpose: str, timed: bool) -> Signer:
    return (TimestampSigner if timed else Signer)(current_app.config["SECRET_KEY"],
                                                  salt=f"maillage.{purpose}")


def sign(purpose: str, *parts: str | int, timed: bool = False) -> str:
    """Return a URL-safe token carrying `parts` for `purpose`; `timed` ones can expire."""
    return _signer(purpose, timed).sign(".".join(map(str, parts))).decode()


def load(purpose: str, token: str, max_age: int | None = None) -> list[str]:
    """Return the parts of a token of `purpose`; a tampered, foreign or expired one (past
    `max_age` seconds, for a timed token) is refused."""
    parts = verified(purpose, token, max_age)
    if parts is None:
        raise NotFound(_("Ce lien n'est pas valide ou a expiré."))
    return parts


def verified(purpose: str, token: str, max_age: int | None = None) -> list[str] | None:
    """Return the parts of a token of `purpose`, or None for a tampered, foreign or expired
    one: `load` without a page's words, for a caller outside any request (a reply by mail)."""
    try:
        if max_age is None:
            value = _signer(purpose, False).unsign(token)
        else:
            value = _signer(purpose, True).unsign(token, max_age=max_age)
    except BadData:
        return None
    return value.decode().split(".")


def claimed_parts(token: str) -> list[str]:
    """Return the parts a timed token says it carries, unchecked: for a purpose that names
    something of the bearer's (a password reset's names the account's password hash), they
    say what to `load` it against. Never act on them before `load` accepted the token."""
    return token.rsplit(".", 2)[0].split(".")
