"""Reading accounts: users, memberships of towns, tokens."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from maillage.accounts.models import ApiToken, TownMembership, User
from maillage.database import session
from maillage.errors import NotFound
from maillage.fields import ascii_int
from maillage.mail import tokens
from maillage.mail.addresses import normalise

# How long the link mailed at sign-up works.
CONFIRM_ACCOUNT_WITHIN = timedelta(days=7)


def user_by_email(email: str) -> User | None:
    """Return the user with this address, whatever its case, or None."""
    return session.scalar(sa.select(User).where(User.email == normalise(email)))


def get_user(user_id: int) -> User | None:
    """Return the user `user_id`, or None."""
    return session.get(User, user_id)


def _account_purpose(purpose: str, user: User) -> str:
    # Salted with the session secret: a reset, a sign-out everywhere or a first provider
    # sign-in draws a new one, and every link sent before is dead.
    return f"{purpose}.{user.session_secret}"


def password_reset_token(user: User) -> str:
    """Return a timed token that lets its bearer set `user`'s password, once."""
    return tokens.sign(_account_purpose("password-reset", user), user.id, timed=True)


def password_reset_user(token: str, max_age: timedelta) -> User:
    """Return the user a password reset token was made for; refused (NotFound) when it is
    tampered with, older than `max_age`, or already used (the secret changed since)."""
    return _account_of("password-reset", token, max_age)


def confirmation_token(user: User) -> str:
    """Return the timed token of the link that proves `user` reads their address."""
    return tokens.sign(_account_purpose("account-confirmation", user), user.id, timed=True)


def confirmation_user(token: str) -> User:
    """Return the user a sign-up confirmation token was made for; NotFound when it is
    tampered with, too old, or the account's sessions were ended since."""
    return _account_of("account-confirmation", token, CONFIRM_ACCOUNT_WITHIN)


def _account_of(purpose: str, token: str, max_age: timedelta) -> User:
    claimed = tokens.claimed_parts(token)
    user_id = ascii_int(claimed[0]) if len(claimed) == 1 else None
    user = session.get(User, user_id) if user_id is not None else None
    if user is None:
        raise NotFound(_("Ce lien n'est pas valide ou a expiré."))
    tokens.load(_account_purpose(purpose, user), token, max_age=int(max_age.total_seconds()))
    return user


def get_membership(membership_id: int) -> TownMembership | None:
    """Return the membership `membership_id`, or None."""
    return session.get(TownMembership, membership_id)


def members_of(insee: str) -> list[TownMembership]:
    """Return the town's memberships, verified first, then by name."""
    return list(session.scalars(
        sa.select(TownMembership).join(TownMembership.user)
        .where(TownMembership.town_insee == insee)
        .order_by(TownMembership.verified_at.is_(None), User.display_name)
    ))


def token_hash(secret: str) -> str:
    """Return the digest a token is stored as; tokens are random, so SHA-256 is enough."""
    return hashlib.sha256(secret.encode()).hexdigest()


def token_by_secret(secret: str) -> ApiToken | None:
    """Return the live token whose secret is `secret`, or None."""
    return session.scalar(sa.select(ApiToken).where(
        ApiToken.token_hash == token_hash(secret), ApiToken.revoked_at.is_(None)
    ))


def live_tokens(user_id: int) -> list[ApiToken]:
    """Return the tokens of `user_id` that still work, newest first."""
    return list(session.scalars(sa.select(ApiToken).where(
        ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None)
    ).order_by(ApiToken.id.desc())))


def display_name(user_id: int) -> str | None:
    """Return the name user `user_id` shows to others, or None if there is no such user."""
    return session.scalar(sa.select(User.display_name).where(User.id == user_id))
