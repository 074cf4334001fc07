"""Writing sign-ins by OpenID Connect: accounts created or linked, memberships verified."""

from __future__ import annotations

from dataclasses import dataclass

from maillage.accounts import operations as accounts
from maillage.accounts.models import Role, TownMembership, User, VerificationSource
from maillage.accounts.queries import normalise_email
from maillage.database import session, utcnow
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
    identity.email = normalise_email(person.email)
    identity.organisation = person.organisation
    identity.last_sign_in_at = utcnow()
    session.flush()
    verify_from_organisation(identity.user, person.organisation)
    return identity.user


def create_account(person: Person) -> User:
    """Create the account of a first sign-in; it has no password, the provider signs it in."""
    user = accounts.create_user(person.email, person.name)
    link_account(user, person)
    return user


def link_account(user: User, person: Person) -> OidcIdentity:
    """Link `person` to an existing account; the caller checked the account's password."""
    identity = OidcIdentity(user=user, issuer=person.issuer, subject=person.subject,
                            email=normalise_email(person.email),
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
