"""Input no request may turn into a 500: numbers beyond the columns, digits that are not ASCII,
JSON nested without end, bodies too large. Each is refused with a 4xx that says which input,
and changes nothing.

Before `maillage.fields`, a number beyond 64 bits failed in SQLite's driver (OverflowError) and
one beyond 32 bits in PostgreSQL (DataError) wherever it reached a query; "²" passed
`str.isdigit` and failed in `int`; "٣" passed both and named row 3.
"""

from __future__ import annotations

import io
import json
from typing import Any

import marshmallow
import pytest
import sqlalchemy as sa

from maillage import pagination
from maillage.database import session
from maillage.fields import BIGINT_MAX, INTEGER_MAX
from maillage.follows.models import Follow
from maillage.initiatives.models import Initiative, Replication
from maillage.notifications.models import Notification
from maillage.settings import SettingsError, load
from tests.support.api import bearer
from tests.support.initiatives import LANDERNEAU, LANNION, VALID

HUGE = [INTEGER_MAX + 1, BIGINT_MAX + 1, 10**30]
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.fixture
def member(create_user, token_for) -> dict[str, str]:
    """The headers of a verified member of Lannion."""
    return bearer(token_for(create_user(town=LANNION, verified=True)))


@pytest.fixture
def initiative_id(client, member) -> int:
    response = client.post("/api/v1/initiatives", json=VALID, headers=member)
    assert response.status_code == 201
    return response.json["id"]


def count(model: Any) -> int:
    session.remove()
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def assert_422_naming(response: Any, location: str, field: str) -> None:
    assert response.status_code == 422, response.get_data(as_text=True)
    assert field in response.json["errors"][location], response.json


@pytest.mark.parametrize("number", HUGE)
@pytest.mark.parametrize("name", ["population_min", "population_max", "limit"])
def test_a_huge_query_argument_is_422_naming_it(client, name, number) -> None:
    response = client.get(f"/api/v1/initiatives?{name}={number}")
    assert_422_naming(response, "query", name)


def test_a_bigint_argument_takes_up_to_64_bits(client, member) -> None:
    assert client.get(f"/api/v1/notifications?after={BIGINT_MAX}",
                      headers=member).status_code == 200
    assert_422_naming(client.get(f"/api/v1/notifications?after={BIGINT_MAX + 1}",
                                 headers=member), "query", "after")


@pytest.mark.parametrize("digits", ["²", "٣", "3²", "1_000", " 3", "+3"])
def test_only_ascii_digits_are_numbers(client, digits) -> None:
    response = client.get("/api/v1/initiatives", query_string={"population_min": digits})
    assert_422_naming(response, "query", "population_min")


def test_the_page_refuses_a_huge_filter_as_the_api_does(client) -> None:
    response = client.get(f"/initiatives?population_min={10**30}")
    assert response.status_code == 422
    assert "2147483647" in response.get_data(as_text=True)


@pytest.mark.parametrize("number", HUGE)
def test_a_huge_body_field_is_422_and_writes_nothing(client, member, create_user, token_for,
                                                     initiative_id, number) -> None:
    other_town = bearer(token_for(create_user(town=LANDERNEAU, verified=True)))
    response = client.post(f"/api/v1/initiatives/{initiative_id}/replications",
                           json={"town": LANDERNEAU, "initiative_id": number},
                           headers=other_town)
    assert_422_naming(response, "json", "initiative_id")
    assert count(Replication) == 0


@pytest.mark.parametrize("body", [{"up_to": BIGINT_MAX + 1}, {"ids": [1, BIGINT_MAX + 1]},
                                  {"up_to": 10**30}, {"up_to": 1.5}, {"up_to": True}])
def test_marking_read_refuses_numbers_no_column_holds(client, member, body) -> None:
    response = client.post("/api/v1/notifications/read", json=body, headers=member)
    assert_422_naming(response, "json", next(iter(body)))


@pytest.mark.parametrize("key", [
    [INTEGER_MAX + 1], [BIGINT_MAX + 1], [10**30], ["7"], [None], [True], [1.5],
    [float("inf"), 3], [1e300, INTEGER_MAX + 1],
])
def test_a_forged_initiatives_cursor_is_422(client, key) -> None:
    cursor = pagination.encode(key)
    response = client.get("/api/v1/initiatives", query_string={"cursor": cursor, "q": "atelier"}
                          if len(key) == 2 else {"cursor": cursor})
    assert_422_naming(response, "query", "cursor")


@pytest.mark.parametrize(("url", "key"), [
    ("/api/v1/towns", [1, 2]),
    ("/api/v1/towns", ["lannion", 22113]),
    ("/api/v1/help-offers", [BIGINT_MAX + 1]),
    ("/api/v1/help-offers", ["1"]),
    ("/api/v1/help-requests", [0, "7", "list"]),
    ("/api/v1/help-requests", [0, -(BIGINT_MAX + 1), "list"]),
])
def test_a_cursor_of_another_shape_is_422(client, url, key) -> None:
    response = client.get(url, query_string={"cursor": pagination.encode(key)})
    assert_422_naming(response, "query", "cursor")


def test_a_cursor_too_long_to_be_ours_is_422(client) -> None:
    cursor = pagination.encode(["a" * 400, "22113"])
    assert_422_naming(client.get("/api/v1/towns", query_string={"cursor": cursor}),
                      "query", "cursor")


def test_the_cursors_the_api_gives_still_work(client) -> None:
    first = client.get("/api/v1/towns?q=lan&limit=2").json
    second = client.get("/api/v1/towns", query_string={"q": "lan", "limit": 2,
                                                        "cursor": first["next_cursor"]})
    assert second.status_code == 200
    assert not {t["insee"] for t in first["items"]} & {t["insee"] for t in second.json["items"]}


@pytest.mark.parametrize("path", ["/api/v1/initiatives/{}", "/initiatives/{}"])
@pytest.mark.parametrize("number", [*HUGE, "9" * 5000])
def test_a_huge_path_id_is_404(client, path, number) -> None:
    assert client.get(path.format(number)).status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/initiatives/{}", "/initiatives/{}"])
def test_a_path_id_in_other_digits_is_404(client, initiative_id, path) -> None:
    assert client.get(path.format(initiative_id)).status_code == 200
    assert client.get(path.format(str(initiative_id).translate(ARABIC_INDIC))).status_code \
        == 404


@pytest.mark.parametrize("target", ["initiative", "help-request"])
@pytest.mark.parametrize("key", [*map(str, HUGE), "²", "1²", "9" * 5000])
def test_a_follow_key_no_row_can_have_is_404_and_follows_nothing(client, member, target,
                                                                  key) -> None:
    assert client.put(f"/api/v1/follows/{target}/{key}", headers=member).status_code == 404
    assert client.delete(f"/api/v1/follows/{target}/{key}", headers=member).status_code == 404
    assert count(Follow) == 0


def test_a_follow_key_in_other_digits_names_nothing(client, member, initiative_id) -> None:
    follows = count(Follow)
    key = str(initiative_id).translate(ARABIC_INDIC)
    assert client.put(f"/api/v1/follows/initiative/{key}", headers=member).status_code == 404
    assert count(Follow) == follows


@pytest.mark.parametrize("up_to", ["²", "٣", str(BIGINT_MAX + 1), "9" * 5000])
def test_the_notifications_page_ignores_what_is_no_id(client, create_user, sign_in, csrf,
                                                      up_to) -> None:
    sign_in(create_user())
    response = client.post("/notifications/read", data={"up_to": up_to, "csrf_token": csrf()})
    assert response.status_code == 303
    assert session.scalar(sa.select(sa.func.count()).select_from(Notification)
                          .where(Notification.read_at.is_not(None))) == 0


@pytest.mark.parametrize("body", ["[" * 100_000, '{"a":' * 100_000, "[" * 33 + "]" * 33,
                                  '{"themes": ' + "[" * 40 + "]" * 40 + "}"])
def test_deeply_nested_json_is_400_and_writes_nothing(client, member, body) -> None:
    before = count(Initiative)
    response = client.post("/api/v1/initiatives", data=body, headers=member,
                           content_type="application/json")
    assert response.status_code == 400
    assert response.json["code"] == 400
    assert count(Initiative) == before


def test_json_nested_within_the_limit_is_parsed(client, member) -> None:
    body = json.dumps({**VALID, "partners": [[[[["x"]]]]]})
    response = client.post("/api/v1/initiatives", data=body, headers=member,
                           content_type="application/json")
    assert_422_naming(response, "json", "partners")


def test_request_get_json_refuses_it_too(app) -> None:
    with app.test_request_context("/", method="POST", data="[" * 100_000,
                                  content_type="application/json"):
        from flask import request
        from werkzeug.exceptions import BadRequest

        with pytest.raises(BadRequest):
            request.get_json()


TWENTY_MIB = 20 * 1024 * 1024


def send_large(client: Any, path: str, content_type: str, chunk: bytes, size: int = TWENTY_MIB,
               **headers: str) -> tuple[Any, io.BytesIO]:
    """Post `size` bytes; the body's position tells how much of it the app read."""
    body = io.BytesIO(chunk * size)
    response = client.post(path, input_stream=body, content_type=content_type, headers=headers)
    return response, body


@pytest.mark.parametrize(("content_type", "chunk"), [("application/json", b"["),
                                                   ("application/x-www-form-urlencoded", b"a")])
def test_a_20_mib_api_body_is_413_unread(client, member, content_type, chunk) -> None:
    before = count(Initiative)
    response, stream = send_large(client, "/api/v1/initiatives", content_type, chunk, **member)
    assert response.status_code == 413
    assert response.json["code"] == 413
    assert stream.tell() == 0
    assert count(Initiative) == before


# A page that takes files takes an item's files more (ATTACHMENT_MAX_ITEM_BYTES, 30 MB).
@pytest.mark.parametrize(("path", "size"), [("/sign-up", TWENTY_MIB),
                                            ("/initiatives/new", 2 * TWENTY_MIB)])
def test_a_large_form_is_413_as_a_page_unread(client, create_user, sign_in, path,
                                              size) -> None:
    sign_in(create_user(town=LANNION, verified=True))
    before = count(Initiative)
    response, stream = send_large(client, path, "application/x-www-form-urlencoded", b"a",
                                  size)
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert stream.tell() == 0
    assert count(Initiative) == before


def test_a_body_over_the_limit_is_413_even_when_sent(make_app, create_user, token_for) -> None:
    app = make_app(MAX_CONTENT_LENGTH=4096)
    headers = bearer(token_for(create_user(town=LANNION, verified=True)))
    client = app.test_client()
    big = {**VALID, "body": "x" * 5000}
    with app.app_context():
        before = count(Initiative)
        assert client.post("/api/v1/initiatives", json=big, headers=headers).status_code == 413
        assert client.post("/api/v1/initiatives", json=VALID, headers=headers).status_code == 201
        assert count(Initiative) == before + 1


def test_the_body_limit_is_a_setting() -> None:
    assert load({})["MAX_CONTENT_LENGTH"] == 1024 * 1024
    assert load({"MAX_CONTENT_LENGTH": "2097152"})["MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024
    for wrong in ("0", "-1", "1MB", "١٠٠"):
        with pytest.raises(SettingsError, match="MAX_CONTENT_LENGTH"):
            load({"MAX_CONTENT_LENGTH": wrong})


def _integer_fields(schema: type[marshmallow.Schema]) -> list[tuple[str, Any]]:
    found, todo = [], list(schema._declared_fields.items())
    while todo:
        name, field = todo.pop()
        if isinstance(field, marshmallow.fields.List):
            todo.append((f"{name}[]", field.inner))
        elif isinstance(field, marshmallow.fields.Integer):
            found.append((name, field))
    return found


def _schemas(base: type = marshmallow.Schema) -> list[type[marshmallow.Schema]]:
    return [cls for sub in base.__subclasses__() for cls in (sub, *_schemas(sub))]


def test_every_integer_field_is_bounded(app) -> None:
    """The mechanism: an integer field of plain marshmallow would take any size again."""
    from maillage.fields import Integer

    unbounded = [f"{cls.__module__}.{cls.__name__}.{name}" for cls in _schemas()
                 if cls.__module__.startswith("maillage.")
                 for name, field in _integer_fields(cls) if not isinstance(field, Integer)]
    assert unbounded == []
