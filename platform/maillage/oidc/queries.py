"""Reading identities of OpenID Connect providers, and the town an organisation id points to."""

from __future__ import annotations

import re

import sqlalchemy as sa

from maillage.database import session
from maillage.oidc.models import OidcIdentity
from maillage.towns.models import Town

_SIRET = re.compile(r"\d{14}")


def identity(issuer: str, subject: str) -> OidcIdentity | None:
    """Return the identity of `subject` at `issuer`, or None if it never signed in."""
    return session.scalar(sa.select(OidcIdentity).where(OidcIdentity.issuer == issuer,
                                                        OidcIdentity.subject == subject))


def identities_of(user_id: int) -> list[OidcIdentity]:
    """Return the provider identities linked to an account."""
    return list(session.scalars(sa.select(OidcIdentity).where(OidcIdentity.user_id == user_id)
                                .order_by(OidcIdentity.id)))


def town_of_siret(siret: str | None) -> Town | None:
    """Return the town whose town hall this SIRET is an establishment of, or None.

    A SIRET is the SIREN of the legal person (nine digits) and the establishment's number
    (five): any establishment of a commune, town hall or not, is the commune.
    """
    if not siret:
        return None
    digits = re.sub(r"\s", "", siret)
    if not _SIRET.fullmatch(digits):
        return None
    return session.scalar(sa.select(Town).where(Town.siren == digits[:9]))
