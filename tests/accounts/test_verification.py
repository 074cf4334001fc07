"""Who may verify a town's members, and the member.verified event a verification records."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from maillage.accounts.models import Role, TownMembership
from maillage.database import session
from maillage.events import Event

LANNION, LANDERNEAU = "22113", "29103"


@pytest.fixture
def pending(create_user) -> TownMembership:
    """An agent of Lannion waiting for verification."""
    return create_user("new@lannion.fr", town=LANNION).memberships[0]


def verify(client, membership_id: int, token: str):
    return client.post(f"/api/v1/memberships/{membership_id}/verify",
                       headers={"Authorization": f"Bearer {token}"})


def state(membership_id: int) -> tuple[bool, int]:
    membership = session.get(TownMembership, membership_id)
    events = session.scalar(sa.select(sa.func.count()).select_from(Event)
                            .where(Event.kind == "member.verified",
                                   Event.payload["membership_id"].as_integer() == membership_id))
    return membership.verified, events


@pytest.mark.parametrize("who", ["verified peer", "moderator", "admin"])
def test_allowed_verifiers(client, create_user, token_for, pending, who) -> None:
    verifier = {
        "verified peer": lambda: create_user(town=LANNION, role=Role.ELECTED, verified=True),
        "moderator": lambda: create_user(moderator=True),
        "admin": lambda: create_user(admin=True),
    }[who]()
    response = verify(client, pending.id, token_for(verifier))
    assert response.status_code == 200, response.json
    assert response.json["verified"] is True
    assert response.json["verification_source"] == \
        {"verified peer": "peer", "moderator": "moderator", "admin": "admin"}[who]
    assert state(pending.id) == (True, 1)
    event = session.scalar(sa.select(Event).where(
        Event.kind == "member.verified",
        Event.payload["membership_id"].as_integer() == pending.id))
    assert event.actor_id == verifier.id
    assert event.payload == {"membership_id": pending.id, "user_id": pending.user_id,
                             "town_insee": LANNION, "source": response.json["verification_source"]}


@pytest.mark.parametrize("who", ["unverified peer", "verified member of another town",
                                 "the member themself", "someone without a town"])
def test_refused_verifiers_change_nothing(client, create_user, token_for, pending,
                                          who) -> None:
    verifier = {
        "unverified peer": lambda: create_user(town=LANNION),
        "verified member of another town": lambda: create_user(town=LANDERNEAU, verified=True),
        "the member themself": lambda: session.get(TownMembership, pending.id).user,
        "someone without a town": lambda: create_user(),
    }[who]()
    response = verify(client, pending.id, token_for(verifier))
    assert response.status_code == 403
    assert response.is_json
    assert state(pending.id) == (False, 0)


def test_signed_out_verification_is_refused(client, pending) -> None:
    response = client.post(f"/api/v1/memberships/{pending.id}/verify")
    assert response.status_code in (400, 401)
    assert state(pending.id) == (False, 0)


def test_verifying_twice_is_a_conflict_and_records_one_event(client, create_user, token_for,
                                                             pending) -> None:
    token = token_for(create_user(admin=True))
    assert verify(client, pending.id, token).status_code == 200
    again = verify(client, pending.id, token)
    assert again.status_code == 409
    assert state(pending.id) == (True, 1)


def test_unknown_membership(client, create_user, token_for) -> None:
    response = verify(client, 987654, token_for(create_user(admin=True)))
    assert response.status_code == 404
    assert response.is_json


def test_a_verified_member_confirms_a_peer_from_the_town_page(client, csrf, sign_in, create_user,
                                                              pending) -> None:

    sign_in(create_user(town=LANNION, role=Role.ELECTED, verified=True))
    page = client.get(f"/towns/{LANNION}").get_data(as_text=True)
    assert f"/memberships/{pending.id}/verify" in page
    response = client.post(f"/memberships/{pending.id}/verify",
                           data={"csrf_token": csrf()})
    assert response.status_code == 303
    assert state(pending.id) == (True, 1)
    assert "vérifié" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_town_page_offers_no_verification_to_outsiders(client, sign_in, create_user,
                                                          pending) -> None:
    sign_in(create_user(town=LANDERNEAU, verified=True))
    page = client.get(f"/towns/{LANNION}").get_data(as_text=True)
    assert "New" in page
    assert f"/memberships/{pending.id}/verify" not in page
