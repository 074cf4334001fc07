"""Initiatives through the API: who may write, what is refused, the outbox rows written."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from maillage.accounts.models import Role, User
from maillage.database import session
from maillage.events import Event
from maillage.follows.models import Follow
from maillage.initiatives.models import Comment, Initiative, Replication
from tests.support.api import bearer
from tests.support.initiatives import LANDERNEAU, LANNION, VALID


@pytest.fixture
def member(create_user, token_for) -> Callable[..., dict[str, str]]:
    """Return headers of a new user: `member(town=..., verified=...)`."""

    def make(**kwargs) -> dict[str, str]:
        return bearer(token_for(create_user(**kwargs)))

    return make


def counts() -> tuple[int, ...]:
    return tuple(session.scalar(sa.select(sa.func.count()).select_from(model))
                 for model in (Initiative, Comment, Replication, Event, Follow))


def kinds() -> list[str]:
    return list(session.scalars(sa.select(Event.kind).where(Event.kind.like("initiative.%"))
                                .order_by(Event.id)))


def test_a_verified_member_publishes_and_follows_it(client, member) -> None:
    response = client.post("/api/v1/initiatives", json=VALID,
                           headers=member(town=LANNION, verified=True))
    assert response.status_code == 201, response.json
    body = response.json
    assert body["town"]["name"] == "Lannion"
    assert body["themes"] == ["sobriete-numerique"]
    assert "<strong>Étapes</strong>" in body["body_html"]
    event = session.scalar(sa.select(Event).where(Event.kind == "initiative.published"))
    assert event.payload == {"initiative_id": body["id"], "town_insee": LANNION,
                             "themes": ["sobriete-numerique"], "title": VALID["title"]}
    assert event.actor_id == body["author"]["id"]
    follow = session.scalar(sa.select(Follow))
    assert (follow.user_id, follow.initiative_id) == (body["author"]["id"], body["id"])


@pytest.mark.parametrize(("who", "status"), [
    ("signed out", 401), ("unverified member", 403), ("member of another town", 403),
    ("no town", 403), ("moderator", 403),
])
def test_others_may_not_publish_and_nothing_changes(client, member, who, status) -> None:
    headers = {
        "signed out": {},
        "unverified member": member(town=LANNION),
        "member of another town": member(town=LANDERNEAU, verified=True),
        "no town": member(),
        "moderator": member(moderator=True),
    }[who]
    before = counts()
    response = client.post("/api/v1/initiatives", json=VALID, headers=headers)
    assert response.status_code == status
    assert response.is_json
    assert counts() == before


@pytest.mark.parametrize(("change", "field"), [
    ({"title": "ab"}, "title"), ({"title": None}, "title"), ({"summary": ""}, "summary"),
    ({"themes": []}, "themes"), ({"themes": ["nope"]}, "themes"),
    ({"status": "dreaming"}, "status"),
    ({"started_on": "yesterday"}, "started_on"), ({"budget_eur": -1}, "budget_eur"),
    ({"links": ["javascript:alert(1)"]}, "links"), ({"town": "00000"}, "town"),
    ({"town": "garbage"}, "town"), ({"partners": "not a list"}, "partners"),
    ({"surprise": 1}, "surprise"),
])
def test_bad_input_is_422_naming_the_field(client, member, change, field) -> None:
    headers = member(town=LANNION, verified=True)
    before = counts()
    response = client.post("/api/v1/initiatives", json={**VALID, **change}, headers=headers)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]
    assert counts() == before


def test_missing_fields_are_each_named(client, member) -> None:
    response = client.post("/api/v1/initiatives", json={},
                           headers=member(town=LANNION, verified=True))
    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == {"town", "title", "summary", "body", "themes"}


@pytest.fixture
def published(client, member, create_user, token_for) -> tuple[int, User]:
    """An initiative of Lannion and its author."""
    author = create_user(town=LANNION, verified=True)
    response = client.post("/api/v1/initiatives", json=VALID, headers=bearer(token_for(author)))
    return response.json["id"], author


def test_the_author_and_the_towns_verified_members_edit(client, member, published,
                                                        token_for) -> None:
    initiative_id, author = published
    response = client.patch(f"/api/v1/initiatives/{initiative_id}",
                            json={"status": "done", "summary": "Terminé."},
                            headers=bearer(token_for(author)))
    assert response.status_code == 200
    assert response.json["status"] == "done"
    assert response.json["updated_at"] > response.json["created_at"]
    assert kinds() == ["initiative.published", "initiative.status_changed",
                       "initiative.updated"]
    peer = member(town=LANNION, role=Role.ELECTED, verified=True)
    response = client.patch(f"/api/v1/initiatives/{initiative_id}", json={"title": "Nouveau titre"},
                            headers=peer)
    assert response.status_code == 200
    unchanged = client.patch(f"/api/v1/initiatives/{initiative_id}",
                             json={"title": "Nouveau titre"}, headers=peer)
    assert unchanged.status_code == 200
    assert kinds().count("initiative.updated") == 2


@pytest.mark.parametrize("who", ["signed out", "unverified member", "member of another town"])
def test_others_may_not_edit(client, member, published, who) -> None:
    initiative_id, _author = published
    headers = {"signed out": {}, "unverified member": member(town=LANNION),
               "member of another town": member(town=LANDERNEAU, verified=True)}[who]
    before = counts()
    response = client.patch(f"/api/v1/initiatives/{initiative_id}", json={"title": "Piraté"},
                            headers=headers)
    assert response.status_code == (401 if who == "signed out" else 403)
    assert session.get(Initiative, initiative_id).title == VALID["title"]
    assert counts() == before


def test_comments_and_replications(client, member, published) -> None:
    initiative_id, _author = published
    reader = member()
    response = client.post(f"/api/v1/initiatives/{initiative_id}/comments",
                           json={"body": "Bravo <script>x</script>"}, headers=reader)
    assert response.status_code == 201
    assert "<script>" not in response.json["body_html"]
    other_town = member(town=LANDERNEAU, verified=True)
    response = client.post(f"/api/v1/initiatives/{initiative_id}/replications",
                           json={"town": LANDERNEAU, "note": "Nous aussi"}, headers=other_town)
    assert response.status_code == 201
    again = client.post(f"/api/v1/initiatives/{initiative_id}/replications",
                        json={"town": LANDERNEAU}, headers=other_town)
    assert again.status_code == 409
    own = client.post(f"/api/v1/initiatives/{initiative_id}/replications",
                      json={"town": LANNION}, headers=member(town=LANNION, verified=True))
    assert own.status_code == 422
    not_theirs = client.post(f"/api/v1/initiatives/{initiative_id}/replications",
                             json={"town": "35238"}, headers=other_town)
    assert not_theirs.status_code == 403
    assert kinds() == ["initiative.published", "initiative.commented", "initiative.replicated"]
    assert session.scalar(sa.select(sa.func.count()).select_from(Follow)) == 3


def test_unknown_and_hidden_initiatives_are_404(client, member, published) -> None:
    initiative_id, _author = published
    assert client.get("/api/v1/initiatives/999999").status_code == 404
    from maillage.database import transaction, utcnow

    with transaction():
        session.get(Initiative, initiative_id).hidden_at = utcnow()
    assert client.get(f"/api/v1/initiatives/{initiative_id}").status_code == 404
    response = client.post(f"/api/v1/initiatives/{initiative_id}/comments",
                           json={"body": "Hello"}, headers=member())
    assert response.status_code == 404
    assert client.get("/api/v1/initiatives").json["items"] == []


def test_listing_filters_and_pages(client, member) -> None:
    headers = {LANNION: member(town=LANNION, verified=True),
               LANDERNEAU: member(town=LANDERNEAU, verified=True)}
    ids = []
    for n in range(7):
        town = LANNION if n % 2 else LANDERNEAU
        payload = {**VALID, "town": town, "title": f"Initiative numéro {n}",
                   "themes": ["cybersecurite"] if n % 3 == 0 else ["sobriete-numerique"]}
        ids.append(client.post("/api/v1/initiatives", json=payload,
                               headers=headers[town]).json["id"])
    listed, cursor = [], None
    while True:
        url = "/api/v1/initiatives?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url).json
        listed += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert listed == ids[::-1]

    def listed_ids(query: str) -> set[int]:
        return {item["id"] for item in client.get(f"/api/v1/initiatives?{query}").json["items"]}

    assert listed_ids("theme=cybersecurite") == {ids[0], ids[3], ids[6]}
    assert listed_ids("theme=no-such-theme") == set()
    assert listed_ids("theme=cybersecurite&q=initiative") == {ids[0], ids[3], ids[6]}
    assert listed_ids(f"town={LANNION}") == {ids[1], ids[3], ids[5]}
    assert listed_ids("department=29") == {ids[0], ids[2], ids[4], ids[6]}
    assert listed_ids("department=29&q=initiative") == {ids[0], ids[2], ids[4], ids[6]}
    assert listed_ids("department=22&q=initiative&theme=cybersecurite") == {ids[3]}
    assert listed_ids("region=53") == set(ids)
    assert listed_ids("population_min=18000") == {ids[1], ids[3], ids[5]}
    assert listed_ids("population_max=18000") == {ids[0], ids[2], ids[4], ids[6]}
    assert listed_ids("status=done") == set()
    bad = client.get("/api/v1/initiatives?status=dreaming&population_min=-1")
    assert set(bad.json["errors"]["query"]) == {"status", "population_min"}
