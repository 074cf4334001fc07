"""The message of accounts: the password reset link."""

from __future__ import annotations

from email.message import Message

from flask import current_app

from maillage.accounts.models import User
from maillage.accounts.queries import password_reset_token
from maillage.mail.messages import absolute, compose


def reset_minutes() -> int:
    """How many minutes a password reset link works, as the message and the pages say it."""
    return round(current_app.config["PASSWORD_RESET_MAX_AGE"].total_seconds() / 60)


def password_reset_message(user: User) -> Message:
    """The link that sets a new password, signed now against the account's current one."""
    return compose(to=user.email, subject="Choisir un nouveau mot de passe Maillage",
                   template="password_reset", locale="fr", display_name=user.display_name,
                   reset_url=absolute(f"/password/reset/{password_reset_token(user)}"),
                   minutes=reset_minutes())
