"""Towns through the API: search, filters, cursors that neither repeat nor skip, one town."""

from __future__ import annotations

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
