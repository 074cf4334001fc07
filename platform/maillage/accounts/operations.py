"""Writing accounts: sign-up and its confirmation, sign-in and its lockouts, sessions ended,
passwords changed and reset, memberships of towns and their verification, expertise, tokens.

About 300 lines: the sessions, passwords and tokens of an account are ended together
(`end_sessions`), so they are written together.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import format_time
from flask_babel import gettext as _

from maillage import events, policy
from maillage.accounts.events import (
    ExpertiseWithdrawn,
    MemberVerified,
    SessionsEnded,
    SignedOut,
    TokenRevoked,
)
from maillage.accounts.models import (
    ApiToken,
    ReferentGrant,
    Role,
    Scope,
    SignInFailure,
    TownMembership,
    User,
    VerificationSource,
    new_secret,
)
from maillage.accounts.queries import (
    confirmation_user,
    password_reset_user,
    token_hash,
    user_by_email,
)
from maillage.database import UTCDateTime, insert, session, utcnow
from maillage.errors import Conflict, Invalid, NotFound
from maillage.i18n import LANGUAGES, check_language
from maillage.mail.addresses import normalise
from maillage.mail.models import Kind
from maillage.mail.operations import clear_failing, decide_confirmation, queue_mail
from maillage.themes.queries import themes_by_slug
from maillage.towns.queries import get_town

_hasher = PasswordHasher()
# Verified against when the address is unknown, so that timing does not tell which exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def create_user(email: str, display_name: str, password: str | None = None, *,
                is_admin: bool = False, is_moderator: bool = False,
                confirmed: bool = False, locale: str = LANGUAGES[0]) -> User:
    """Create an account; refused when the address is taken. No password means OIDC only.

    `confirmed` says the address is known to be its owner's (an admin created it, a provider
    vouched for it); otherwise the account reads and nothing more until `confirm_email`.
    `locale` is the language of its pages and mail, at first the browser's: the confirmation
    mail is already in it.
    """
    check_language(locale)
    email = normalise(email)
    if user_by_email(email) is not None:
        raise Invalid({"email": ["An account already uses this address."]})
    user = User(email=email, display_name=display_name.strip(),
                password_hash=_hasher.hash(password) if password else None,
                is_admin=is_admin, is_moderator=is_moderator, locale=locale,
                email_confirmed_at=utcnow() if confirmed else None)
    session.add(user)
    session.flush()
    return user


def set_language(user: User, locale: str) -> User:
    """Choose the language of `user`'s pages and mail, digests and notices already queued
    included: they are written when they leave."""
    check_language(locale)
    user.locale = locale
    session.flush()
    return user


def request_confirmation(user: User) -> None:
    """Mail `user` the link that confirms their address, once this commits; nothing when it
    is confirmed already or the address had its share of confirmation mails today."""
    if not user.email_confirmed and decide_confirmation(user.email) is not None:
        queue_mail(Kind.ACCOUNT, user.id)


def confirm_email(token: str) -> User:
    """Record that the owner of the address followed the link mailed to it."""
    user = confirmation_user(token)
    if not user.email_confirmed:
        user.email_confirmed_at = utcnow()
        clear_failing(user.email)
        session.flush()
    return user


def authenticate(email: str, password: str, source: str) -> User | None:
    """Return the user whose address and password these are, or None.

    Wrong passwords in a row from one `source` (the client's address) lock password sign-in
    from that source for a while (LOCKOUT_ATTEMPTS, LOCKOUT_MINUTES); a locked attempt is
    refused with Invalid, its password not even tried. Other sources are not locked: a
    stranger guessing cannot keep the owner out.
    """
    user = user_by_email(email)
    failure = session.get(SignInFailure, (user.id, source)) if user is not None else None
    if failure is not None and failure.locked_until is not None \
            and failure.locked_until > utcnow():
        raise Invalid({"password": [
            _("Trop de mots de passe erronés : la connexion par mot de passe de ce compte "
              "reprend à %(time)s.", time=format_time(failure.locked_until, "short"))]})
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        if user is not None:
            _count_failure(user.id, source)
        return None
    if user is None or not user.password_hash:
        return None
    if failure is not None:
        session.delete(failure)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def _count_failure(user_id: int, source: str) -> None:
    # On a connection of its own, committed at once: the refused sign-in's transaction is
    # rolled back, and the count must survive it.
    config = current_app.config
    until = sa.bindparam("until", utcnow() + timedelta(minutes=config["LOCKOUT_MINUTES"]),
                         type_=UTCDateTime)
    statement = insert(SignInFailure).values(user_id=user_id, source=source, failures=1)
    failures = SignInFailure.failures + 1
    statement = statement.on_conflict_do_update(
        index_elements=[SignInFailure.user_id, SignInFailure.source],
        set_={"failures": failures,
              "locked_until": sa.case((failures >= config["LOCKOUT_ATTEMPTS"], until),
                                      else_=SignInFailure.locked_until)})
    with session.get_bind().begin() as connection:
        connection.execute(statement)


def end_sessions(user: User, *, revoke_tokens: bool = False) -> int:
    """End every session of `user`: a new session secret kills the sessions, sockets, reset
    and confirmation links made with the old one; `revoke_tokens` revokes their personal
    tokens too. Return how many tokens were revoked."""
    user.session_secret = new_secret()
    revoked = 0
    if revoke_tokens:
        revoked = session.execute(
            sa.update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())).rowcount
    session.flush()
    events.record(SessionsEnded(user_id=user.id), actor_id=user.id)
    return revoked


def sign_out(user: User, sign_in: str | None) -> None:
    """Record that `user` signed out of the browser whose session carries the mark
    `sign_in`, so that the sockets it opened close."""
    if sign_in:
        events.record(SignedOut(user_id=user.id, sign_in=sign_in), actor_id=user.id)


def request_password_reset(email: str) -> None:
    """Mail a reset link to the account using `email`, once this commits; nothing for an
    unknown address, and the caller answers the same, so nobody learns which addresses exist.

    The link is signed by the job, against the session secret the account has when it is
    sent.
    """
    user = user_by_email(email)
    if user is not None:
        queue_mail(Kind.PASSWORD_RESET, user.id)


def reset_password(token: str, password: str, max_age: timedelta) -> User:
    """Set the password of the account a reset `token` was mailed to, and make the account
    its owner's alone: whoever followed the link reads its mail, so the address is confirmed,
    lockouts are lifted, every other session and every personal token ends (the owner is
    told in a mail), and the token dies with the old session secret."""
    user = password_reset_user(token, max_age)
    user.password_hash = _hasher.hash(password)
    user.email_confirmed_at = user.email_confirmed_at or utcnow()
    session.execute(sa.delete(SignInFailure).where(SignInFailure.user_id == user.id))
    revoked = end_sessions(user, revoke_tokens=True)
    tell_owner(user, "password-reset", revoked)
    return user


def change_password(user: User, current: str, new: str, source: str) -> User:
    """Replace a password its owner typed; the account's other sessions end."""
    if not user.password_hash or authenticate(user.email, current, source) is None:
        raise Invalid({"current_password": [_("Mot de passe incorrect.")]})
    user.password_hash = _hasher.hash(new)
    end_sessions(user)
    return user


def tell_owner(user: User, what: str, tokens_revoked: int) -> None:
    """Mail `user`, once this commits, that `what` happened to their account (a password
    reset, a first provider sign-in) and how many personal tokens it revoked."""
    queue_mail(Kind.SECURITY, user.id, what=what, tokens_revoked=tokens_revoked)


def join_town(user: User, town_insee: str, role: Role) -> TownMembership:
    """Record that `user` serves a town in `role`; the membership waits for verification."""
    town = get_town(town_insee)
    if town is None:
        raise Invalid({"town": [f"No town has the INSEE code {town_insee}."]})
    if any(m.town_insee == town.insee for m in user.memberships):
        raise Conflict(f"You are already a member of {town.name}.")
    membership = TownMembership(user=user, town_insee=town.insee, role=role)
    session.add(membership)
    session.flush()
    return membership


def verify_membership(membership: TownMembership, verifier: User | None,
                      source: VerificationSource) -> TownMembership:
    """Mark `membership` verified by `verifier` (None for OIDC) and record member.verified."""
    if verifier is not None:
        policy.require(policy.can_verify(verifier, membership),
                       "Only a verified member of this town, a moderator or an admin may "
                       "verify its members.")
    if membership.verified:
        raise Conflict("This membership is already verified.")
    membership.verified_at = utcnow()
    membership.verified_by = verifier
    membership.verification_source = source
    session.flush()
    events.record(MemberVerified(membership_id=membership.id, user_id=membership.user_id,
                                        town_insee=membership.town_insee, source=source.value),
                  actor_id=verifier.id if verifier else None)
    return membership


def verify_as(verifier: User) -> VerificationSource:
    """Return the source a verification by `verifier` is recorded with."""
    if verifier.is_admin:
        return VerificationSource.ADMIN
    if verifier.is_moderator:
        return VerificationSource.MODERATOR
    return VerificationSource.PEER


def set_expertise(user: User, slugs: Iterable[str]) -> User:
    """Replace the themes `user` declares expertise in; unknown slugs are refused.

    Declaring is for those who may be referents; clearing is for anyone, so that a person
    who declared before the rule, or lost their grant, can withdraw.
    """
    slugs = list(slugs)
    if slugs:
        policy.require(policy.can_be_referent(user),
                       "Only verified members of a town, or people an admin made referents, "
                       "may declare expertise.")
    themes, unknown = themes_by_slug(slugs)
    if unknown:
        raise Invalid({"themes": [f"Unknown theme: {', '.join(unknown)}."]})
    withdrawn = sorted({theme.slug for theme in user.expertise} - {theme.slug for theme in themes})
    user.expertise = themes
    session.flush()
    if withdrawn:
        events.record(ExpertiseWithdrawn(user_id=user.id, themes=withdrawn), actor_id=user.id)
    return user


def grant_referent(user: User, admin: User | None) -> ReferentGrant:
    """Make `user` a referent without a verified town, by `admin`'s decision (None: the
    operator of the command line, whom the server trusts as it trusts its shell)."""
    if admin is not None:
        policy.require(policy.can_grant_referent(admin),
                       "Only admins make people referents.")
    if user.referent_grant is not None:
        raise Conflict(f"{user.email} is already a referent by an admin's grant.")
    user.referent_grant = ReferentGrant(user_id=user.id,
                                        granted_by_id=admin.id if admin else None)
    session.flush()
    return user.referent_grant


def revoke_referent(user: User) -> None:
    """Withdraw an admin's grant. The expertise `user` declared stays, and counts again once
    a town verifies them or an admin grants anew; until then they offer nothing alone."""
    if user.referent_grant is None:
        raise Conflict(f"{user.email} holds no referent grant.")
    user.referent_grant = None
    session.flush()


def create_token(user: User, scope: Scope, name: str = "") -> tuple[ApiToken, str]:
    """Create a personal API token; return it and its secret, which is never stored."""
    secret = "mlg_" + secrets.token_urlsafe(32)
    token = ApiToken(user=user, scope=scope, name=name, token_hash=token_hash(secret))
    session.add(token)
    session.flush()
    return token, secret


def revoke_token(user: User, token_id: int) -> ApiToken:
    """Revoke one of `user`'s live tokens; the sockets it opened close once this commits."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        raise NotFound(f"You have no live token of id {token_id}.")
    token.revoked_at = utcnow()
    events.record(TokenRevoked(token_id=token.id, user_id=user.id), actor_id=user.id)
    return token


def touch_token(token: ApiToken) -> None:
    """Record when `token` was last used, to the minute, so reads rarely write."""
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
