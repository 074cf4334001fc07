"""Writing sign-ins by OpenID Connect: accounts created or linked, memberships verified."""

from __future__ import annotations

from dataclasses import dataclass

from maillage.accounts import operations as accounts
from maillage.accounts.models import Role, TownMembership, User, VerificationSource
from maillage.database import session, utcnow
from maillage.mail.addresses import normalise
from maillage.oidc import queries
from maillage.oidc.models import OidcIdentity


@dataclass(frozen=True)
class Person:
    """What the provider vouched for: from a validated ID token and its userinfo."""

    issuer: str
    subject: str
    email: str
    name: str
    organisation: str | None


def sign_in_known(person: Person) -> User | None:
    """Return the account already linked to `person`, refreshed from the claims, or None."""
    identity = queries.identity(person.issuer, person.subject)
    if identity is None:
        return None
    identity.email = normalise(person.email)
    identity.organisation = person.organisation
    identity.last_sign_in_at = utcnow()
    session.flush()
    verify_from_organisation(identity.user, person.organisation)
    return identity.user


def create_account(person: Person, locale: str) -> User:
    """Create the account of a first sign-in, in the browser's language (`locale`); it has
    no password, the provider signs it in, and its address is confirmed: the provider
    vouched for it."""
    user = accounts.create_user(person.email, person.name, confirmed=True, locale=locale)
    _link(user, person)
    return user


def link_account(user: User, person: Person) -> OidcIdentity:
    """Link `person` to an existing account with their address: its first provider sign-in.

    The caller checked the account's password, unless the address was never confirmed: then
    whoever made the account never proved it theirs, and the provider's person, who did,
    takes it over, its password dropped. Either way the account is that person's alone from
    now on: every session and personal token made before ends, and the owner is told.
    """
    if not user.email_confirmed:
        user.password_hash = None
        user.email_confirmed_at = utcnow()
    revoked = accounts.end_sessions(user, revoke_tokens=True)
    accounts.tell_owner(user, "oidc-link", revoked)
    return _link(user, person)


def _link(user: User, person: Person) -> OidcIdentity:
    identity = OidcIdentity(user=user, issuer=person.issuer, subject=person.subject,
                            email=normalise(person.email),
                            organisation=person.organisation)
    session.add(identity)
    session.flush()
    verify_from_organisation(user, person.organisation)
    return identity


def verify_from_organisation(user: User, organisation: str | None) -> TownMembership | None:
    """Verify `user` as a member of the town the organisation id is an establishment of.

    The provider vouches that the person works there, which is what a peer would confirm; a
    membership already verified keeps its first source.
    """
    town = queries.town_of_siret(organisation)
    if town is None:
        return None
    membership = next((m for m in user.memberships if m.town_insee == town.insee), None)
    if membership is None:
        membership = accounts.join_town(user, town.insee, Role.AGENT)
    if not membership.verified:
        accounts.verify_membership(membership, None, VerificationSource.OIDC)
    return membership
