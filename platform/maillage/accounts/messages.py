"""The messages of accounts: the password reset link, the sign-up confirmation, and what
the owner is told when their account changed hands; each in the account's language, not the
language of whoever asked for it (a reset is asked for from any browser): their subjects are
lazy (`_` is `lazy_gettext`), translated by `compose` in the account's language."""

from __future__ import annotations

from email.message import Message

from flask import current_app
from flask_babel import lazy_gettext as _

from maillage.accounts.models import User
from maillage.accounts.queries import (
    CONFIRM_ACCOUNT_WITHIN,
    confirmation_token,
    password_reset_token,
)
from maillage.mail.messages import absolute, compose


def reset_minutes() -> int:
    """How many minutes a password reset link works, as the message and the pages say it."""
    return round(current_app.config["PASSWORD_RESET_MAX_AGE"].total_seconds() / 60)


def password_reset_message(user: User) -> Message:
    """The link that sets a new password, signed now against the account's current one."""
    return compose(to=user.email, subject=_("Choisir un nouveau mot de passe Maillage"),
                   template="password_reset", locale=user.locale,
                   display_name=user.display_name,
                   reset_url=absolute(f"/password/reset/{password_reset_token(user)}"),
                   minutes=reset_minutes())


def confirmation_message(user: User) -> Message:
    """The link that proves the new account's owner reads its address."""
    return compose(to=user.email, subject=_("Confirmer votre adresse sur Maillage"),
                   template="account_confirmation", locale=user.locale,
                   display_name=user.display_name, created_at=user.created_at,
                   confirm_url=absolute(f"/account/confirm/{confirmation_token(user)}"),
                   forgot_url=absolute("/password/forgot"), days=CONFIRM_ACCOUNT_WITHIN.days)


def security_notice_message(user: User, what: str, tokens_revoked: int) -> Message:
    """What happened to the account (`what`: "password-reset" or "oidc-link"), and what it
    ended, so that an owner who did not do it knows at once."""
    return compose(to=user.email, subject=_("Votre compte Maillage a changé"),
                   template="security_notice", locale=user.locale,
                   display_name=user.display_name,
                   what=what, tokens_revoked=tokens_revoked,
                   forgot_url=absolute("/password/forgot"))
