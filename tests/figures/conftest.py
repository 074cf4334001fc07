"""Figures over named networks and themes, for the tests of what a reader is shown."""

from __future__ import annotations

import pytest

from maillage.accounts.models import Role, User
from maillage.database import session, transaction
from maillage.help import operations as help_operations
from maillage.initiatives import operations as initiatives
from maillage.networks import operations
from maillage.networks.models import NetworkMembership

LANNION, MORLAIX = "22113", "29151"
APVF = "Association des petites villes de France"


@pytest.fixture
def named(app, create_user) -> None:
    """Two networks sharing Lannion, an initiative of two themes and a request for help."""
    with transaction():
        apvf = operations.create_network("apvf", APVF)
        internet = operations.create_network("villes-internet", "Villes Internet")
        session.add_all([NetworkMembership(network_id=apvf.id, town_insee=LANNION),
                         NetworkMembership(network_id=internet.id, town_insee=LANNION),
                         NetworkMembership(network_id=internet.id, town_insee=MORLAIX)])
    author = create_user(town=LANNION, role=Role.AGENT, verified=True)
    with transaction():
        initiatives.publish_initiative(
            session.get(User, author.id), town=LANNION, title="Des mots de passe robustes",
            summary="En bref.", body="Le récit.", themes=["cybersecurite", "sobriete-numerique"])
        help_operations.ask_for_help(session.get(User, author.id), town=LANNION,
                                     title="Quel hébergeur ?", body="Pour le site.",
                                     themes=["cybersecurite"])
