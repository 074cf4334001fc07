"""Open data and feeds through HTTP: the CSV and JSON exports hold every public initiative and
no hidden one, the DCAT catalog names the licence and both files, each Atom feed parses and
holds the right entries, and the pages link their feeds."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest
import sqlalchemy as sa

from maillage.accounts.models import User
from maillage.database import session, transaction, utcnow
from maillage.initiatives import operations
from maillage.initiatives.models import Initiative
from maillage.networks.models import Network, NetworkMembership
from maillage.opendata import queries

LANNION, LANDERNEAU = "22113", "29103"
LICENCE = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
ATOM = "{http://www.w3.org/2005/Atom}"
FIELDS = {"town": LANNION, "title": "Des imprimantes moins gourmandes",
          "summary": "Nous avons réduit de moitié la consommation du parc d'impression.",
          "body": "Inventaire, mutualisation.", "themes": ["sobriete-numerique"],
          "status": "in_progress", "started_on": date(2025, 3, 1), "budget_eur": 12000,
          "partners": ["Lannion-Trégor Communauté", "Syndicat d'énergie; et \"autres\""],
          "links": ["https://www.lannion.bzh/", "https://example.org/a,b"]}


def publish(author: User, **changes: object) -> int:
    with transaction():
        return operations.publish_initiative(session.get(User, author.id),
                                             **{**FIELDS, **changes}).id


def hide(initiative_id: int) -> None:
    with transaction():
        session.get(Initiative, initiative_id).hidden_at = utcnow()


@pytest.fixture
def seeded(create_user) -> dict[str, int]:
    """Two public initiatives of two towns, and a hidden one."""
    lannion = create_user("lea@example.org", town=LANNION, verified=True)
    landerneau = create_user("yann@example.org", town=LANDERNEAU, verified=True)
    ids = {"lannion": publish(lannion, themes=["sobriete-numerique", "cybersecurite"]),
           "landerneau": publish(landerneau, town=LANDERNEAU, title="Un atelier d'inclusion",
                                 themes=["inclusion-numerique"], status="idea",
                                 started_on=None, budget_eur=None, partners=[], links=[]),
           "hidden": publish(lannion, title="Une initiative masquée",
                             themes=["sobriete-numerique"])}
    hide(ids["hidden"])
    return ids


def test_the_csv_holds_every_public_initiative_and_no_hidden_one(client, seeded) -> None:
    response = client.get("/open-data/initiatives.csv")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="maillage-initiatives.csv"'
    reader = csv.DictReader(io.StringIO(response.get_data(as_text=True)))
    assert tuple(reader.fieldnames) == queries.COLUMNS
    rows = {int(row["id"]): row for row in reader}
    assert set(rows) == {seeded["lannion"], seeded["landerneau"]}
    lannion = rows[seeded["lannion"]]
    assert lannion["title"] == "Des imprimantes moins gourmandes"
    assert (lannion["town_insee"], lannion["town_name"]) == (LANNION, "Lannion")
    assert (lannion["department_code"], lannion["department_name"]) == ("22", "Côtes-d'Armor")
    assert lannion["themes"] == "cybersecurite;sobriete-numerique"
    assert (lannion["status"], lannion["started_on"], lannion["budget_eur"]) == \
        ("in_progress", "2025-03-01", "12000")
    # The csv module's quoting keeps separators, quotes and lines inside a cell.
    assert lannion["partners"].split("\n") == FIELDS["partners"]
    assert lannion["links"].split("\n") == FIELDS["links"]
    assert lannion["url"] == f"http://localhost/initiatives/{seeded['lannion']}"
    assert lannion["created_at"].startswith(str(date.today().year))
    landerneau = rows[seeded["landerneau"]]
    assert (landerneau["started_on"], landerneau["budget_eur"], landerneau["partners"]) == \
        ("", "", "")


def test_the_json_holds_the_same_rows(client, seeded) -> None:
    response = client.get("/open-data/initiatives.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    rows = {row["id"]: row for row in json.loads(response.get_data(as_text=True))}
    assert set(rows) == {seeded["lannion"], seeded["landerneau"]}
    lannion = rows[seeded["lannion"]]
    assert list(lannion) == list(queries.COLUMNS)
    assert lannion["themes"] == ["cybersecurite", "sobriete-numerique"]
    assert lannion["partners"] == FIELDS["partners"]
    assert (lannion["budget_eur"], lannion["town_name"]) == (12000, "Lannion")
    assert rows[seeded["landerneau"]]["started_on"] is None
    assert "masquée" not in response.get_data(as_text=True)


def test_an_empty_export_is_a_header_and_an_empty_array(client) -> None:
    assert client.get("/open-data/initiatives.csv").get_data(as_text=True) == \
        ",".join(queries.COLUMNS) + "\r\n"
    assert json.loads(client.get("/open-data/initiatives.json").get_data(as_text=True)) == []


def test_the_export_reads_past_its_batches(app, client, create_user) -> None:
    author = create_user(town=LANNION, verified=True)
    ids = [publish(author, title=f"Initiative {n}") for n in range(7)]
    hide(ids[3])
    with app.test_request_context():
        assert [row.id for row in queries.public_initiatives(batch=2)] == \
            [i for i in ids if i != ids[3]]


def test_the_catalog_names_the_licence_and_both_distributions(client, seeded) -> None:
    response = client.get("/open-data/catalog.jsonld")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/ld+json"
    catalog = json.loads(response.get_data(as_text=True))
    assert catalog["@context"]["dcat"] == "http://www.w3.org/ns/dcat#"
    assert catalog["@context"]["dct"] == "http://purl.org/dc/terms/"
    assert catalog["@type"] == "dcat:Catalog"
    assert catalog["dct:license"] == {"@id": LICENCE}
    assert catalog["dct:publisher"]["foaf:name"] == "Maillage"
    [dataset] = catalog["dcat:dataset"]
    assert dataset["@type"] == "dcat:Dataset"
    assert dataset["dct:license"] == {"@id": LICENCE}
    modified = session.scalar(sa.select(Initiative.updated_at)
                              .where(Initiative.id == seeded["landerneau"]))
    assert dataset["dct:modified"]["@value"] == modified.isoformat()
    assert {(d["@type"], d["dcat:mediaType"], d["dcat:downloadURL"]["@id"])
            for d in dataset["dcat:distribution"]} == {
        ("dcat:Distribution", "text/csv", "http://localhost/open-data/initiatives.csv"),
        ("dcat:Distribution", "application/json",
         "http://localhost/open-data/initiatives.json")}
    assert all(d["dct:license"] == {"@id": LICENCE} for d in dataset["dcat:distribution"])


def test_the_open_data_page_states_the_licence_and_is_in_the_footer(client, seeded) -> None:
    home = client.get("/").get_data(as_text=True)
    assert 'href="/open-data"' in home
    page = client.get("/open-data").get_data(as_text=True)
    assert f'href="{LICENCE}" rel="license"' in page
    assert "Licence Ouverte / Open Licence version 2.0" in page
    assert "paternité" in page
    for link in ("/open-data/initiatives.csv", "/open-data/initiatives.json",
                 "/open-data/catalog.jsonld"):
        assert f'href="{link}"' in page
    english = client.get("/open-data", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "attribution" in english.lower()


def entries(response) -> tuple[ET.Element, list[tuple[str, str]]]:
    """The feed's root and its entries' (id, title), after checking it is Atom."""
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(response.get_data())
    assert root.tag == f"{ATOM}feed"
    return root, [(entry.findtext(f"{ATOM}id"), entry.findtext(f"{ATOM}title"))
                  for entry in root.iter(f"{ATOM}entry")]


def entry(initiative_id: int, title: str) -> tuple[str, str]:
    return (f"http://localhost/initiatives/{initiative_id}", title)


def test_the_theme_feed_holds_its_public_initiatives(client, seeded) -> None:
    root, found = entries(client.get("/themes/sobriete-numerique/feed.atom"))
    assert found == [entry(seeded["lannion"], "Des imprimantes moins gourmandes")]
    assert root.findtext(f"{ATOM}title") == \
        "Initiatives du thème Sobriété numérique · Maillage"
    english, _ = entries(client.get("/themes/sobriete-numerique/feed.atom",
                                    headers={"Accept-Language": "en"}))
    assert english.findtext(f"{ATOM}title") == "Initiatives on Digital sobriety · Maillage"
    assert client.get("/themes/nope/feed.atom").status_code == 404


def test_the_town_and_network_feeds(client, seeded) -> None:
    _, found = entries(client.get(f"/towns/{LANNION}/feed.atom"))
    assert found == [entry(seeded["lannion"], "Des imprimantes moins gourmandes")]
    with transaction():
        network = Network(slug="villes-internet", name="Villes Internet")
        session.add(network)
        session.flush()
        session.add_all([NetworkMembership(network_id=network.id, town_insee=town)
                         for town in (LANNION, LANDERNEAU)])
    root, found = entries(client.get("/networks/villes-internet/feed.atom"))
    assert found == [entry(seeded["landerneau"], "Un atelier d'inclusion"),
                     entry(seeded["lannion"], "Des imprimantes moins gourmandes")]
    assert root.findtext(f"{ATOM}title") == "Initiatives du réseau Villes Internet · Maillage"
    assert client.get("/networks/nope/feed.atom").status_code == 404
    assert client.get("/towns/99999/feed.atom").status_code == 404


def test_the_search_feed_takes_the_lists_filters(client, seeded) -> None:
    _, found = entries(client.get("/initiatives/feed.atom"))
    assert found == [entry(seeded["landerneau"], "Un atelier d'inclusion"),
                     entry(seeded["lannion"], "Des imprimantes moins gourmandes")]
    _, found = entries(client.get("/initiatives/feed.atom?status=idea"))
    assert found == [entry(seeded["landerneau"], "Un atelier d'inclusion")]
    root, found = entries(client.get("/initiatives/feed.atom?q=imprimantes"))
    assert found == [entry(seeded["lannion"], "Des imprimantes moins gourmandes")]
    assert root.findtext(f"{ATOM}title") == "Initiatives : « imprimantes » · Maillage"
    _, found = entries(client.get("/initiatives/feed.atom?q=masquée"))
    assert found == []
    refused = client.get("/initiatives/feed.atom?status=nope&town=x")
    assert refused.status_code == 422
    assert set(refused.get_json()["errors"]) == {"status", "town"}


def alternate(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<link rel="alternate" type="application/atom\+xml" title="([^"]*)" '
                      r'href="([^"]*)">', page)


def test_the_pages_link_their_feeds(client, seeded) -> None:
    with transaction():
        session.add(Network(slug="villes-internet", name="Villes Internet"))
    theme = client.get("/themes/sobriete-numerique").get_data(as_text=True)
    assert alternate(theme) == [("Initiatives du thème Sobriété numérique · Maillage",
                                 "/themes/sobriete-numerique/feed.atom")]
    town = client.get(f"/towns/{LANNION}").get_data(as_text=True)
    assert alternate(town) == [("Initiatives de Lannion · Maillage", f"/towns/{LANNION}/feed.atom")]
    listed = client.get("/initiatives?q=imprimantes&status=in_progress").get_data(as_text=True)
    [(title, href)] = alternate(listed)
    assert title == "Initiatives : « imprimantes » · Maillage"
    assert href.startswith("/initiatives/feed.atom?")
    assert sorted(html.unescape(href).split("?")[1].split("&")) == \
        ["q=imprimantes", "status=in_progress"]
    figures = client.get("/figures?network=villes-internet").get_data(as_text=True)
    assert alternate(figures) == [("Initiatives du réseau Villes Internet · Maillage",
                                   "/networks/villes-internet/feed.atom")]
    assert alternate(client.get("/figures").get_data(as_text=True)) == []
