"""The API skeleton: towns, themes, the OpenAPI document, and JSON errors everywhere under /api."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from maillage.database import session, transaction
from maillage.towns.models import Town


def walk(client, url: str, cursor: str | None = None) -> list[str]:
    """Follow the cursors of `url` to the end; return the INSEE codes in order."""
    codes: list[str] = []
    for _ in range(1000):
        separator = "&" if "?" in url else "?"
        page = client.get(url + (f"{separator}cursor={cursor}" if cursor else "")).json
        codes += [town["insee"] for town in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return codes
    raise AssertionError("the cursors never end")


def test_search_folds_accents_case_and_hyphens(client) -> None:
    found = walk(client, "/api/v1/towns?q=SAINT ETIENNE&limit=100")
    names = {session.get(Town, insee).name for insee in found}
    assert {"Saint-Étienne", "Saint-Étienne-de-Tinée", "Saint-Étienne-du-Rouvray"} <= names
    assert all("tienne" in name for name in names)
    assert "Évry-Courcouronnes" in {t["name"] for t in
                                    client.get("/api/v1/towns?q=evry").json["items"]}


def test_search_matches_the_start_of_any_word(client) -> None:
    names = {t["name"] for t in client.get("/api/v1/towns?q=dore&department=63&limit=100")
             .json["items"]}
    assert {"Mont-Dore", "Néronde-sur-Dore", "Dore-l'Église"} <= names
    assert "Dorat" not in names


def test_search_by_insee_code_and_postal_code(client) -> None:
    assert [t["name"] for t in client.get("/api/v1/towns?q=2A004").json["items"]] == ["Ajaccio"]
    by_postal = {t["insee"] for t in client.get("/api/v1/towns?q=22300").json["items"]}
    assert "22113" in by_postal


def test_filters_by_department_and_region(client) -> None:
    in_department = walk(client, "/api/v1/towns?department=2B&limit=100")
    expected = session.scalars(sa.select(Town.insee).where(Town.department_code == "2B")).all()
    assert sorted(in_department) == sorted(expected)
    in_region = client.get("/api/v1/towns?region=53&limit=100").json["items"]
    assert {t["region"]["code"] for t in in_region} == {"53"}


def test_pages_neither_repeat_nor_skip(client) -> None:
    codes = walk(client, "/api/v1/towns?department=2A&limit=7")
    expected = session.scalars(sa.select(Town.insee).where(Town.department_code == "2A")).all()
    assert len(codes) == len(set(codes)) == len(expected)
    assert set(codes) == set(expected)


def test_pages_neither_repeat_nor_skip_under_concurrent_inserts(client) -> None:
    url = "/api/v1/towns?department=2A&limit=10"
    first = client.get(url).json
    with transaction():
        session.add(Town(insee="2A999", name="Aaa-Nouvelle", search_name="aaa nouvelle",
                         zone="metro", department_code="2A", region_code="94"))
        session.add(Town(insee="2A998", name="Zzz-Nouvelle", search_name="zzz nouvelle",
                         zone="metro", department_code="2A", region_code="94"))
    try:
        rest = walk(client, url, first["next_cursor"])
        seen = [t["insee"] for t in first["items"]] + rest
        assert len(seen) == len(set(seen))
        assert "2A998" in rest
        assert "2A999" not in seen
    finally:
        with transaction():
            session.execute(sa.delete(Town).where(Town.insee.in_(["2A998", "2A999"])))


def test_one_town_with_its_networks_and_labels(client) -> None:
    town = client.get("/api/v1/towns/29103").json
    assert town["name"] == "Landerneau"
    assert town["siren"] == "212901037"
    assert town["department"] == {"code": "29", "name": "Finistère"}
    assert (town["networks"], town["label_awards"]) == ([], [])


def test_themes(client) -> None:
    themes = client.get("/api/v1/themes").json
    assert len(themes) == 21
    assert {"slug": "cybersecurite", "name_fr": "Cybersécurité", "name_en": "Cybersecurity"} \
        in themes


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
