"""The API skeleton: the OpenAPI document, and JSON errors everywhere under /api."""

from __future__ import annotations

import threading

import pytest


def test_the_openapi_document_describes_the_api(client) -> None:
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/towns", "/api/v1/towns/{insee}", "/api/v1/themes", "/api/v1/me",
                 "/api/v1/memberships/{membership_id}/verify"):
        assert path in spec["paths"], path


@pytest.mark.parametrize(("method", "url", "status"), [
    ("get", "/api/v1/nowhere", 404),
    ("get", "/api", 404),
    ("get", "/api/v1/towns/00000", 404),
    ("get", "/api/v1/towns?limit=0", 422),
    ("get", "/api/v1/towns?limit=abc", 422),
    ("get", "/api/v1/towns?cursor=not-a-cursor", 422),
    ("get", "/api/v1/towns?cursor=WzFd", 422),
    ("get", "/api/v1/me", 401),
    ("delete", "/api/v1/themes", 405),
    ("post", "/api/v1/towns", 405),
    ("get", "/api/v1/memberships/1/verify", 405),
])
def test_errors_are_json_with_a_message(client, method, url, status) -> None:
    response = getattr(client, method)(url)
    assert response.status_code == status
    assert response.is_json
    body = response.json
    assert body["code"] == status
    assert body.get("message") or body.get("errors")


def test_validation_errors_name_each_field(client, create_user, token_for) -> None:
    # A verified member, who may declare expertise: their wrong themes are what is refused.
    headers = {"Authorization": f"Bearer {token_for(create_user(town='22113', verified=True))}"}
    response = client.get("/api/v1/towns?limit=500&department=toolong")
    assert set(response.json["errors"]["query"]) == {"limit", "department"}
    response = client.put("/api/v1/me/expertise", json={"themes": ["nope", "resilience"]},
                          headers=headers)
    assert response.status_code == 422
    assert "nope" in response.json["errors"]["json"]["themes"][0]
    response = client.put("/api/v1/me/expertise", data="{not json",
                          headers={**headers, "Content-Type": "application/json"})
    assert response.status_code in (400, 422)
    assert response.is_json
    response = client.put("/api/v1/me/expertise", json={"themes": "resilience"},
                          headers=headers)
    assert response.status_code == 422
    assert "themes" in response.json["errors"]["json"]


def test_concurrent_reads_are_served(app, client) -> None:
    statuses: list[int] = []

    def read() -> None:
        with app.test_client() as own:
            statuses.append(own.get("/api/v1/towns?q=saint&limit=50").status_code)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 8
